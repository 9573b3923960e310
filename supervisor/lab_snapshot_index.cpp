#include "lab_snapshot_index.h"

#include <cerrno>
#include <cstring>
#include <set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "file_io.h"
#include "owned_fd.h"
#include "snapshot_file.h"
#include "test_network.h"

namespace provium {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxVms = 256;
constexpr std::size_t kMaxNameBytes = 256;
constexpr std::size_t kMaxIndexBytes = 1 << 20;
constexpr int kIndexFormat = 1;

void check_name(const std::string& name, const std::string& what) {
  if (name.empty() || name.size() > kMaxNameBytes || name.find('\0') != std::string::npos) {
    throw LabIndexError(fmt::format("{}: a name of 1 to {} bytes is needed", what, kMaxNameBytes));
  }
}

}  // namespace

void check_lab_index(const LabIndex& index) {
  if (index.vms.size() > kMaxVms) throw LabIndexError(fmt::format("more than {} VMs", kMaxVms));
  if (index.bridges.size() > TestNetwork::kMaxBridges) {
    throw LabIndexError(fmt::format("more than {} bridges", TestNetwork::kMaxBridges));
  }
  std::set<std::string> bridges;
  for (const auto& bridge : index.bridges) {
    check_name(bridge, "a bridge");
    if (!bridges.insert(bridge).second) throw LabIndexError(fmt::format("bridge `{}` is listed twice", bridge));
  }
  std::set<std::string> names;
  std::set<std::string> files;
  for (const auto& vm : index.vms) {
    check_name(vm.name, "a VM");
    if (!names.insert(vm.name).second) throw LabIndexError(fmt::format("VM `{}` is listed twice", vm.name));
    check_name(vm.profile, fmt::format("VM `{}`: its profile", vm.name));
    if (!vm.file.empty()) {
      // A plain name in the directory: never a path that leads elsewhere.
      if (vm.file.size() > 64 || vm.file.find('/') != std::string::npos || vm.file.front() == '.' ||
          !vm.file.ends_with(".snap")) {
        throw LabIndexError(fmt::format("VM `{}`: `{}` is not a snapshot file name (name.snap)", vm.name, vm.file));
      }
      if (!files.insert(vm.file).second) throw LabIndexError(fmt::format("file `{}` is listed twice", vm.file));
    }
    if (vm.file.empty() && (!vm.nics.empty() || vm.paused)) {
      throw LabIndexError(fmt::format("VM `{}` was not running and cannot have NICs or be paused", vm.name));
    }
    std::set<std::uint32_t> slots;
    for (const auto& nic : vm.nics) {
      if (!bridges.contains(nic.bridge)) {
        throw LabIndexError(fmt::format("VM `{}`: bridge `{}` is not one of the lab's", vm.name, nic.bridge));
      }
      if (nic.slot >= TestNetwork::kNicSlots || !slots.insert(nic.slot).second) {
        throw LabIndexError(fmt::format("VM `{}`: NIC slot {} is out of range or taken twice", vm.name, nic.slot));
      }
    }
  }
}

void write_lab_index(const fs::path& directory, const LabIndex& index) {
  check_lab_index(index);
  nlohmann::json vms = nlohmann::json::array();
  for (const auto& vm : index.vms) {
    nlohmann::json nics = nlohmann::json::array();
    for (const auto& nic : vm.nics) nics.push_back({{"bridge", nic.bridge}, {"slot", nic.slot}});
    vms.push_back({{"name", vm.name}, {"profile", vm.profile}, {"file", vm.file}, {"paused", vm.paused},
                   {"nics", nics}});
  }
  const nlohmann::json body = {{"format", kIndexFormat}, {"bridges", index.bridges}, {"vms", vms}};
  const std::string text = body.dump(2) + "\n";
  const fs::path final_path = directory / kLabIndexName;
  const fs::path temporary = directory / fmt::format(".{}.partial-{}-0", kLabIndexName, ::getpid());
  OwnedFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) throw LabIndexError(fmt::format("{}: {}", temporary.string(), std::strerror(errno)));
  const bool written = ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd.get()) == 0;
  if (!written || ::rename(temporary.c_str(), final_path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temporary.c_str());
    throw LabIndexError(fmt::format("{}: {}", final_path.string(), reason));
  }
}

LabIndex read_lab_index(const fs::path& directory) {
  const fs::path path = directory / kLabIndexName;
  std::string text;
  try {
    text = read_file_capped(path, kMaxIndexBytes);
  } catch (const std::exception& error) {
    throw LabIndexError(fmt::format("{}: not a lab snapshot: {}", directory.string(), error.what()));
  }
  const auto body = nlohmann::json::parse(text, nullptr, false);
  LabIndex index;
  try {
    if (body.is_discarded() || !body.is_object()) throw LabIndexError("not JSON");
    if (body.at("format").get<int>() != kIndexFormat) {
      throw LabIndexError(fmt::format("format {} is not the one this Provium reads ({})", body.at("format").get<int>(),
                                      kIndexFormat));
    }
    index.bridges = body.at("bridges").get<std::vector<std::string>>();
    for (const auto& vm : body.at("vms")) {
      LabIndexVm entry{vm.at("name").get<std::string>(), vm.at("profile").get<std::string>(),
                       vm.at("file").get<std::string>(), vm.at("paused").get<bool>(), {}};
      for (const auto& nic : vm.at("nics")) {
        entry.nics.push_back(LabIndexNic{nic.at("bridge").get<std::string>(), nic.at("slot").get<std::uint32_t>()});
      }
      index.vms.push_back(std::move(entry));
    }
    check_lab_index(index);
  } catch (const nlohmann::json::exception& error) {
    throw LabIndexError(fmt::format("{}: damaged: {}", path.string(), error.what()));
  } catch (const LabIndexError& error) {
    throw LabIndexError(fmt::format("{}: damaged: {}", path.string(), error.what()));
  }
  return index;
}

LabIndex check_lab_snapshot(const fs::path& directory) {
  LabIndex index = read_lab_index(directory);
  for (const auto& vm : index.vms) {
    if (vm.file.empty()) continue;
    const fs::path file = directory / vm.file;
    OwnedFd fd(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      throw LabIndexError(fmt::format("{}: VM `{}`'s snapshot {} is missing", directory.string(), vm.name, vm.file));
    }
    read_snapshot_file(fd.get(), file.string());
  }
  return index;
}

namespace {

bool is_lab_snapshot_file(const std::string& name) {
  return name == kLabIndexName || name.ends_with(".snap") ||
         (name.front() == '.' && name.find(".partial-") != std::string::npos);
}

}  // namespace

std::uint64_t lab_snapshot_bytes(const fs::path& directory) {
  std::uint64_t total = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) total += static_cast<std::uint64_t>(st.st_size);
  }
  return total;
}

void remove_lab_snapshot(const fs::path& directory) {
  std::vector<fs::path> files;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    struct stat st {};
    const std::string name = entry.path().filename().string();
    if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode) || !is_lab_snapshot_file(name)) {
      throw LabIndexError(fmt::format("{} is not a lab snapshot: it holds `{}`; not removing it", directory.string(),
                                      name));
    }
    files.push_back(entry.path());
  }
  if (error) throw LabIndexError(fmt::format("{}: {}", directory.string(), error.message()));
  for (const auto& file : files) {
    if (::unlink(file.c_str()) != 0 && errno != ENOENT) {
      throw LabIndexError(fmt::format("{}: {}", file.string(), std::strerror(errno)));
    }
  }
  if (::rmdir(directory.c_str()) != 0 && errno != ENOENT) {
    throw LabIndexError(fmt::format("{}: {}", directory.string(), std::strerror(errno)));
  }
}

void remove_unlisted_snapshots(const fs::path& directory, const LabIndex& index) {
  std::set<std::string> listed;
  for (const auto& vm : index.vms) listed.insert(vm.file);
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    const std::string name = entry.path().filename().string();
    struct stat st {};
    if (name.ends_with(".snap") && name.front() != '.' && !listed.contains(name) &&
        ::lstat(entry.path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      ::unlink(entry.path().c_str());
    }
  }
}

}  // namespace provium
