#include "file_io.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <kj/io.h>

namespace provium {
namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const char* what) {
  throw std::runtime_error(fmt::format("{}: {}: {}", path.string(), what, std::strerror(errno)));
}

}  // namespace

std::string read_file_capped(const std::filesystem::path& path, std::size_t max_bytes) {
  kj::AutoCloseFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail(path, "cannot open");
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) fail(path, "stat");
  if (!S_ISREG(info.st_mode)) throw std::runtime_error(fmt::format("{}: not a regular file", path.string()));
  if (static_cast<std::size_t>(info.st_size) > max_bytes) {
    throw std::runtime_error(fmt::format("{}: {} bytes is over the limit of {} bytes", path.string(),
                                         static_cast<long long>(info.st_size), max_bytes));
  }
  std::string contents;
  char buffer[65536];
  for (;;) {
    const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail(path, "read");
    if (got == 0) break;
    contents.append(buffer, static_cast<std::size_t>(got));
    if (contents.size() > max_bytes) {
      throw std::runtime_error(fmt::format("{}: grew over the limit of {} bytes while reading", path.string(), max_bytes));
    }
  }
  return contents;
}

}  // namespace provium
