#include "stream_sources.h"

#include "path_errors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace provium::agent {
namespace wire = provium::wire::agent;

namespace {

StreamSource open_for_streaming(const char* action, const std::string& path) {
  // O_NONBLOCK: a FIFO without a writer must not freeze the agent.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) throw_path_error(action, path, errno);
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) throw_path_error(action, path, errno);
  if (S_ISDIR(info.st_mode)) throw_path_error(action, path, EISDIR);
  StreamSource source;
  source.fd = std::move(fd);
  if (S_ISREG(info.st_mode)) source.size = static_cast<std::uint64_t>(info.st_size);
  return source;
}

}  // namespace

StreamSource open_tail_source(const std::string& path, wire::TailOrigin origin, std::int64_t offset) {
  StreamSource source = open_for_streaming("tailFile", path);
  const auto size = static_cast<std::int64_t>(source.size);
  const std::int64_t base = origin == wire::TailOrigin::END ? size : 0;
  // Saturating: offsets near the int64 limits must not wrap around.
  std::int64_t start = offset > 0 && base > INT64_MAX - offset ? INT64_MAX : base + offset;
  start = std::clamp<std::int64_t>(start, 0, size);
  if (source.size > 0 && ::lseek(source.fd.get(), start, SEEK_SET) < 0) throw_path_error("tailFile", path, errno);
  source.start_offset = static_cast<std::uint64_t>(start);
  return source;
}

StreamSource open_file_source(const std::string& path) { return open_for_streaming("readFileStream", path); }

StreamSource describe_open_source(UniqueFd fd) {
  StreamSource source;
  struct stat info {};
  if (::fstat(fd.get(), &info) == 0 && S_ISREG(info.st_mode)) {
    source.size = static_cast<std::uint64_t>(info.st_size);
    const off_t position = ::lseek(fd.get(), 0, SEEK_CUR);
    source.start_offset = position > 0 ? static_cast<std::uint64_t>(position) : 0;
  }
  source.fd = std::move(fd);
  return source;
}

}  // namespace provium::agent
