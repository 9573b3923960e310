#include "guest_ram.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>
#include <algorithm>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

namespace provium {

GuestRam GuestRam::create(std::uint64_t bytes, const std::string& vm) {
  // Not MFD_CLOEXEC-free: QEMU gets it through the spawn's fd map, nothing else.
  OwnedFd fd(::memfd_create(fmt::format("provium-ram-{}", vm).c_str(), MFD_CLOEXEC));
  if (!fd.valid()) throw std::runtime_error(fmt::format("guest RAM: memfd_create: {}", std::strerror(errno)));
  if (::ftruncate(fd.get(), static_cast<off_t>(bytes)) != 0) {
    throw std::runtime_error(fmt::format("guest RAM: cannot size the memfd to {} bytes: {}", bytes, std::strerror(errno)));
  }
  return GuestRam(std::move(fd), bytes);
}

namespace {

// copy_file_range where the kernel does it across these file systems,
// else read + write.
void copy_range(int from, int to, off_t begin, off_t end) {
  loff_t in = begin;
  loff_t out = begin;
  while (in < end) {
    const ssize_t copied = ::copy_file_range(from, &in, to, &out, static_cast<std::size_t>(end - in), 0);
    if (copied > 0) continue;
    if (copied < 0 && errno == EINTR) continue;
    if (copied < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) break;
    throw std::runtime_error(
        fmt::format("copying guest RAM: copy_file_range at {}: {}", in, copied == 0 ? "short" : std::strerror(errno)));
  }
  std::vector<char> buffer(1 << 20);
  while (in < end) {
    const std::size_t want = std::min<std::size_t>(buffer.size(), static_cast<std::size_t>(end - in));
    const ssize_t got = ::pread(from, buffer.data(), want, in);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) throw std::runtime_error(fmt::format("copying guest RAM: read at {}: {}", in, got == 0 ? "short" : std::strerror(errno)));
    for (ssize_t done = 0; done < got;) {
      const ssize_t put = ::pwrite(to, buffer.data() + done, static_cast<std::size_t>(got - done), in + done);
      if (put < 0 && errno == EINTR) continue;
      if (put <= 0) throw std::runtime_error(fmt::format("copying guest RAM: write at {}: {}", in + done, std::strerror(errno)));
      done += put;
    }
    in += got;
  }
}

}  // namespace

void copy_sparse(int from, int to, std::uint64_t bytes) {
  off_t offset = 0;
  const off_t end = static_cast<off_t>(bytes);
  while (offset < end) {
    const off_t data = ::lseek(from, offset, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // only holes from here on
      throw std::runtime_error(fmt::format("copying guest RAM: SEEK_DATA: {}", std::strerror(errno)));
    }
    if (data >= end) break;
    off_t hole = ::lseek(from, data, SEEK_HOLE);
    if (hole < 0) throw std::runtime_error(fmt::format("copying guest RAM: SEEK_HOLE: {}", std::strerror(errno)));
    if (hole > end) hole = end;
    copy_range(from, to, data, hole);
    offset = hole;
  }
  if (::ftruncate(to, end) != 0) {
    throw std::runtime_error(fmt::format("copying guest RAM: ftruncate: {}", std::strerror(errno)));
  }
}

}  // namespace provium
