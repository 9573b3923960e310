#include "agent_overlay.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <kj/io.h>

#include "initrd_join.h"
#include "sha256.h"

namespace provium {
namespace {

namespace fs = std::filesystem;

std::string identity_of(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    throw std::runtime_error(fmt::format("{}: {}", path.string(), std::strerror(errno)));
  }
  return fmt::format("{}:{}:{}.{}", path.string(), info.st_size, info.st_mtim.tv_sec, info.st_mtim.tv_nsec);
}

// Writes the merged image to a temp file in `dir` and renames it into place,
// so a concurrent provium never boots a half-written image.
void write_merged(const fs::path& target, const fs::path& initrd, const fs::path& overlay) {
  std::string temp = (target.parent_path() / (".merge-" + target.filename().string() + ".XXXXXX")).string();
  kj::AutoCloseFd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (fd.get() < 0) throw std::runtime_error(fmt::format("{}: cannot create: {}", temp, std::strerror(errno)));
  try {
    stream_joined(initrd, overlay, [&](std::string_view chunk) {
      while (!chunk.empty()) {
        const ssize_t written = ::write(fd.get(), chunk.data(), chunk.size());
        if (written < 0 && errno == EINTR) continue;
        if (written < 0) throw std::runtime_error(fmt::format("{}: write: {}", temp, std::strerror(errno)));
        chunk.remove_prefix(static_cast<std::size_t>(written));
      }
    });
    // QEMU runs unprivileged and reopens the image through /dev/fd: keep it world-readable.
    if (::fchmod(fd.get(), 0644) != 0 || ::rename(temp.c_str(), target.c_str()) != 0) {
      throw std::runtime_error(fmt::format("{}: cannot install: {}", target.string(), std::strerror(errno)));
    }
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
}

}  // namespace

fs::path AgentOverlayCache::merged(const fs::path& initrd, const fs::path& overlay) {
  const std::string identity = identity_of(initrd) + "|" + identity_of(overlay);
  if (const auto found = built_.find(identity); found != built_.end()) return found->second;

  Sha256 hash;
  stream_joined(initrd, overlay, [&](std::string_view chunk) { hash.update(chunk); });
  const fs::path target = dir_ / (hash.hex_digest() + ".cpio");
  std::error_code error;
  fs::create_directories(dir_, error);
  if (error) throw std::runtime_error(fmt::format("{}: cannot create: {}", dir_.string(), error.message()));
  if (!fs::exists(target, error)) write_merged(target, initrd, overlay);
  built_.emplace(identity, target);
  return target;
}

}  // namespace provium
