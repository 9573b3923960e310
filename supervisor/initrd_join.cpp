#include "initrd_join.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <kj/io.h>

namespace provium {

std::size_t initrd_padding(std::size_t size) { return (4 - size % 4) % 4; }

std::size_t stream_file(const std::filesystem::path& path, const std::function<void(std::string_view)>& sink) {
  kj::AutoCloseFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw std::runtime_error(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
  std::string buffer(1 << 20, '\0');
  std::size_t total = 0;
  for (;;) {
    const ssize_t got = ::read(fd.get(), buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw std::runtime_error(fmt::format("{}: read: {}", path.string(), std::strerror(errno)));
    if (got == 0) return total;
    sink(std::string_view(buffer.data(), static_cast<std::size_t>(got)));
    total += static_cast<std::size_t>(got);
  }
}

void stream_joined(const std::filesystem::path& first, const std::filesystem::path& second,
                   const std::function<void(std::string_view)>& sink) {
  const std::size_t first_size = stream_file(first, sink);
  sink(std::string_view("\0\0\0", initrd_padding(first_size)));
  stream_file(second, sink);
}

}  // namespace provium
