#include "file_transfer.h"

#include "unique_fd.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace provium::agent {
namespace {

[[noreturn]] void fail(const char* action, const std::string& path, int error_number) {
  throw std::system_error(error_number, std::generic_category(), std::string(action) + " `" + path + "`");
}

}  // namespace

std::vector<std::byte> read_whole_file(const std::string& path, std::size_t limit) {
  // O_NONBLOCK: a FIFO without a writer must not freeze the single-threaded agent.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) fail("read", path, errno);
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) fail("read", path, errno);
  if (S_ISDIR(info.st_mode)) fail("read", path, EISDIR);

  std::vector<std::byte> data;
  if (S_ISREG(info.st_mode) && info.st_size > 0) {
    data.reserve(std::min(limit + 1, static_cast<std::size_t>(info.st_size) + 1));
  }
  constexpr std::size_t kChunkBytes = 64 * 1024;
  for (;;) {
    const std::size_t old_size = data.size();
    data.resize(old_size + kChunkBytes);
    const ssize_t got = ::read(fd.get(), data.data() + old_size, kChunkBytes);
    data.resize(old_size + (got > 0 ? static_cast<std::size_t>(got) : 0));
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;  // nothing more available right now
      fail("read", path, errno);
    }
    if (data.size() > limit) {
      throw std::system_error(EFBIG, std::generic_category(),
                              "read `" + path + "`: larger than the " + std::to_string(limit) +
                                  "-byte limit of one response (stream it with readFileStream)");
    }
  }
  return data;
}

void write_whole_file(const std::string& path, const void* data, std::size_t size, mode_t mode) {
  constexpr int kFlags = O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  bool created = true;
  UniqueFd fd(::open(path.c_str(), kFlags | O_CREAT | O_EXCL, mode));
  if (!fd.valid() && errno == EEXIST) {
    created = false;
    fd.reset(::open(path.c_str(), kFlags | O_CREAT | O_TRUNC, mode));
  }
  if (!fd.valid()) fail("write", path, errno);
  // O_NONBLOCK only guarded the open (a FIFO without a reader fails with ENXIO
  // instead of hanging the agent); the writes themselves should block normally.
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  if (created && ::fchmod(fd.get(), mode) != 0) fail("write", path, errno);

  const auto* cursor = static_cast<const unsigned char*>(data);
  std::size_t left = size;
  while (left > 0) {
    const ssize_t wrote = ::write(fd.get(), cursor, left);
    if (wrote < 0) {
      if (errno == EINTR) continue;
      fail("write", path, errno);
    }
    cursor += wrote;
    left -= static_cast<std::size_t>(wrote);
  }
  // close() is where NFS-like filesystems report deferred write errors.
  if (::close(fd.release()) != 0) fail("write", path, errno);
}

}  // namespace provium::agent
