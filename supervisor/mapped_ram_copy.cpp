#include "mapped_ram_copy.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>

#include <owned_fd.h>

namespace provium {
namespace {

constexpr std::size_t kPage = 4096;
constexpr std::size_t kChunk = 1 << 20;

// The start address of `pid`'s mapping of the file (dev, inode) at offset 0
// that is at least `bytes` long.
std::uint64_t find_mapping(pid_t pid, dev_t dev, ino_t inode, std::uint64_t bytes) {
  std::ifstream maps(fmt::format("/proc/{}/maps", pid));
  if (!maps) throw std::runtime_error(fmt::format("cannot read /proc/{}/maps", pid));
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream fields(line);
    std::string range, perms, offset, device;
    unsigned long long mapped_inode = 0;
    if (!(fields >> range >> perms >> offset >> device >> mapped_inode)) continue;
    if (mapped_inode != inode || std::stoull(offset, nullptr, 16) != 0) continue;
    const auto colon = device.find(':');
    if (colon == std::string::npos) continue;
    const unsigned major_number = static_cast<unsigned>(std::stoul(device.substr(0, colon), nullptr, 16));
    const unsigned minor_number = static_cast<unsigned>(std::stoul(device.substr(colon + 1), nullptr, 16));
    if (major_number != major(dev) || minor_number != minor(dev)) continue;
    const auto dash = range.find('-');
    const std::uint64_t start = std::stoull(range.substr(0, dash), nullptr, 16);
    const std::uint64_t end = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (end - start >= bytes) return start;
  }
  throw std::runtime_error(fmt::format("QEMU (pid {}) does not map the guest's RAM file", pid));
}

bool all_zero(const char* data, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] != 0) return false;
  }
  return true;
}

}  // namespace

void copy_mapped_ram(pid_t pid, int backing_fd, std::uint64_t bytes, int into_fd) {
  struct stat st {};
  if (::fstat(backing_fd, &st) != 0) throw std::runtime_error(fmt::format("guest RAM: fstat: {}", std::strerror(errno)));
  const std::uint64_t start = find_mapping(pid, st.st_dev, st.st_ino, bytes);
  OwnedFd memory(::open(fmt::format("/proc/{}/mem", pid).c_str(), O_RDONLY | O_CLOEXEC));
  if (!memory.valid()) {
    throw std::runtime_error(fmt::format("cannot read QEMU's memory (/proc/{}/mem): {}", pid, std::strerror(errno)));
  }
  std::vector<char> buffer(kChunk);
  for (std::uint64_t done = 0; done < bytes;) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, bytes - done));
    const ssize_t got = ::pread(memory.get(), buffer.data(), want, static_cast<off_t>(start + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      throw std::runtime_error(fmt::format("reading guest RAM at {:#x}: {}", done, got == 0 ? "short" : std::strerror(errno)));
    }
    for (std::size_t page = 0; page < static_cast<std::size_t>(got); page += kPage) {
      const std::size_t size = std::min<std::size_t>(kPage, static_cast<std::size_t>(got) - page);
      if (all_zero(buffer.data() + page, size)) continue;
      if (::pwrite(into_fd, buffer.data() + page, size, static_cast<off_t>(done + page)) != static_cast<ssize_t>(size)) {
        throw std::runtime_error(fmt::format("writing guest RAM: {}", std::strerror(errno)));
      }
    }
    done += static_cast<std::uint64_t>(got);
  }
  if (::ftruncate(into_fd, static_cast<off_t>(bytes)) != 0) {
    throw std::runtime_error(fmt::format("writing guest RAM: ftruncate: {}", std::strerror(errno)));
  }
}

}  // namespace provium
