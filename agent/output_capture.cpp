#include "output_capture.h"

#include <unistd.h>

#include <algorithm>

namespace provium::agent {
namespace {

constexpr std::size_t kReadChunkBytes = 64 * 1024;  // one pipe's default capacity

}  // namespace

ssize_t OutputCapture::read_from(int fd) {
  if (kept_.size() >= limit_) {
    std::byte sink[kReadChunkBytes];
    const ssize_t got = ::read(fd, sink, sizeof sink);
    if (got > 0) discarded_ += static_cast<std::uint64_t>(got);
    return got;
  }
  const std::size_t room = std::min(kReadChunkBytes, limit_ - kept_.size());
  const std::size_t old_size = kept_.size();
  // Grow geometrically but never past the limit, so capacity stays bounded too.
  if (kept_.capacity() < old_size + room) {
    kept_.reserve(std::min(limit_, std::max(old_size + room, kept_.capacity() * 2)));
  }
  kept_.resize(old_size + room);
  const ssize_t got = ::read(fd, kept_.data() + old_size, room);
  kept_.resize(old_size + (got > 0 ? static_cast<std::size_t>(got) : 0));
  return got;
}

}  // namespace provium::agent
