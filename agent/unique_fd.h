// Owning wrapper for a file descriptor: closes it exactly once. Close errors
// are ignored on purpose: every descriptor the agent closes is a pipe, socket,
// timer or read-only file, where close() failing leaves nothing to recover.
//
// Every owned descriptor is also recorded process-wide, so a layer-0 syscall
// from the host can be refused when it would close or replace a descriptor
// behind its owner's back (see raw_call.cpp).
#pragma once

#include <unistd.h>

#include <unordered_set>
#include <utility>

namespace provium::agent {

namespace detail {
// Never destroyed: UniqueFds in static storage may outlive any static set.
inline std::unordered_set<int>& owned_descriptor_set() {
  static auto* descriptors = new std::unordered_set<int>;
  return *descriptors;
}
}  // namespace detail

// True while some UniqueFd in this process owns `fd`.
inline bool is_owned_descriptor(int fd) { return detail::owned_descriptor_set().contains(fd); }

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) { remember(fd_); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      close_owned();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { close_owned(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    detail::owned_descriptor_set().erase(fd_);
    return std::exchange(fd_, -1);
  }
  void reset(int fd = -1) {
    close_owned();
    fd_ = fd;
    remember(fd_);
  }

 private:
  static void remember(int fd) {
    if (fd >= 0) detail::owned_descriptor_set().insert(fd);
  }
  void close_owned() {
    if (fd_ < 0) return;
    detail::owned_descriptor_set().erase(fd_);
    ::close(std::exchange(fd_, -1));
  }

  int fd_ = -1;
};

}  // namespace provium::agent
