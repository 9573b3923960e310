#include "snapshot_file.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sha256.h"

namespace provium {
namespace {

constexpr std::string_view kMagic = "PRVSNAP1";
constexpr std::size_t kFooterBytes = 16;
constexpr std::uint64_t kMaxMetadataBytes = 64 * 1024;
constexpr std::uint64_t kMaxStateBytes = 256ull << 20;

void read_exactly(int fd, void* into, std::size_t bytes, std::uint64_t offset, const std::string& shown) {
  auto* out = static_cast<char*>(into);
  std::size_t done = 0;
  while (done < bytes) {
    const ssize_t got = ::pread(fd, out + done, bytes - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw SnapshotFileError(fmt::format("snapshot {}: read: {}", shown, std::strerror(errno)));
    if (got == 0) throw SnapshotFileError(fmt::format("snapshot {}: truncated", shown));
    done += static_cast<std::size_t>(got);
  }
}

void write_all(int fd, std::string_view bytes, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t put = ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) throw SnapshotFileError(fmt::format("writing the snapshot metadata: {}", std::strerror(errno)));
    done += static_cast<std::size_t>(put);
  }
}

std::uint64_t file_size(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw SnapshotFileError(fmt::format("snapshot: fstat: {}", std::strerror(errno)));
  return static_cast<std::uint64_t>(st.st_size);
}

std::string hash_range(int fd, std::uint64_t offset, std::uint64_t bytes, const std::string& shown) {
  Sha256 hash;
  std::vector<char> buffer(64 * 1024);
  while (bytes > 0) {
    const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(bytes, buffer.size()));
    read_exactly(fd, buffer.data(), chunk, offset, shown);
    hash.update(std::string_view(buffer.data(), chunk));
    offset += chunk;
    bytes -= chunk;
  }
  return hash.hex_digest();
}

nlohmann::json to_json(const SnapshotInfo& info) {
  return {{"format", kSnapshotFormat}, {"vm", info.vm},         {"profile", info.profile},
          {"ram_bytes", info.ram_bytes}, {"cpus", info.cpus},   {"nic_slots", info.nic_slots},
          {"nic_vm_index", info.nic_vm_index}, {"accel", info.accel},         {"state_bytes", info.state_bytes},
          {"state_sha256", info.state_sha256}, {"taken_at_ns", info.taken_at_ns}};
}

std::string metadata_hash(const nlohmann::json& body) {
  Sha256 hash;
  hash.update(body.dump());
  return hash.hex_digest();
}

}  // namespace

void finish_snapshot_file(int fd, SnapshotInfo& info) {
  const std::uint64_t end = file_size(fd);
  if (end < info.ram_bytes) throw SnapshotFileError("snapshot: the device state is missing");
  info.state_bytes = end - info.ram_bytes;
  info.state_sha256 = hash_range(fd, info.ram_bytes, info.state_bytes, "being written");
  nlohmann::json body = to_json(info);
  const nlohmann::json metadata = {{"body", body}, {"sha256", metadata_hash(body)}};
  const std::string text = metadata.dump();
  std::string footer(kMagic);
  for (int i = 0; i < 8; ++i) footer.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xff));
  write_all(fd, text, end);
  write_all(fd, footer, end + text.size());
}

SnapshotInfo read_snapshot_file(int fd, const std::string& shown) {
  const std::uint64_t size = file_size(fd);
  if (size < kFooterBytes) throw SnapshotFileError(fmt::format("snapshot {}: not a Provium snapshot (too short)", shown));
  std::array<unsigned char, kFooterBytes> footer{};
  read_exactly(fd, footer.data(), footer.size(), size - kFooterBytes, shown);
  if (std::memcmp(footer.data(), kMagic.data(), kMagic.size()) != 0) {
    throw SnapshotFileError(fmt::format("snapshot {}: not a Provium snapshot (no footer)", shown));
  }
  std::uint64_t metadata_bytes = 0;
  for (int i = 7; i >= 0; --i) metadata_bytes = (metadata_bytes << 8) | footer[kMagic.size() + i];
  if (metadata_bytes == 0 || metadata_bytes > kMaxMetadataBytes || metadata_bytes > size - kFooterBytes) {
    throw SnapshotFileError(fmt::format("snapshot {}: damaged (metadata length {})", shown, metadata_bytes));
  }
  const std::uint64_t metadata_at = size - kFooterBytes - metadata_bytes;
  std::string text(metadata_bytes, '\0');
  read_exactly(fd, text.data(), text.size(), metadata_at, shown);
  const auto metadata = nlohmann::json::parse(text, nullptr, false);
  if (metadata.is_discarded() || !metadata.is_object() || !metadata.contains("body") ||
      !metadata["body"].is_object() || metadata.value("sha256", std::string()) != metadata_hash(metadata["body"])) {
    throw SnapshotFileError(fmt::format("snapshot {}: damaged (metadata does not match its checksum)", shown));
  }
  const auto& body = metadata["body"];
  SnapshotInfo info;
  try {
    if (body.at("format").get<std::uint32_t>() != kSnapshotFormat) {
      throw SnapshotFileError(fmt::format("snapshot {}: format {} is not the format this Provium reads ({})", shown,
                                          body.at("format").get<std::uint32_t>(), kSnapshotFormat));
    }
    info.vm = body.at("vm").get<std::string>();
    info.profile = body.at("profile").get<std::string>();
    info.ram_bytes = body.at("ram_bytes").get<std::uint64_t>();
    info.cpus = body.at("cpus").get<std::uint32_t>();
    info.nic_slots = body.at("nic_slots").get<std::uint32_t>();
    info.nic_vm_index = body.value("nic_vm_index", std::uint32_t{0});
    info.accel = body.at("accel").get<std::string>();
    info.state_bytes = body.at("state_bytes").get<std::uint64_t>();
    info.state_sha256 = body.at("state_sha256").get<std::string>();
    info.taken_at_ns = body.at("taken_at_ns").get<std::int64_t>();
  } catch (const nlohmann::json::exception& error) {
    throw SnapshotFileError(fmt::format("snapshot {}: damaged metadata: {}", shown, error.what()));
  }
  if (info.state_bytes == 0 || info.state_bytes > kMaxStateBytes || info.ram_bytes + info.state_bytes != metadata_at) {
    throw SnapshotFileError(fmt::format("snapshot {}: damaged (sizes do not add up)", shown));
  }
  if (hash_range(fd, info.ram_bytes, info.state_bytes, shown) != info.state_sha256) {
    throw SnapshotFileError(fmt::format("snapshot {}: damaged (the device state does not match its checksum)", shown));
  }
  return info;
}

}  // namespace provium
