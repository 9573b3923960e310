#include "net_namespace.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <fmt/format.h>

namespace provium::netsetup {
namespace {

std::string errno_text(const char* what) { return fmt::format("{}: {}", what, strerror(errno)); }

// Runs `body` on a fresh thread after `enter` (which prepares the thread's
// namespace); exceptions from either come back to the caller.
void run_on_fresh_thread(const std::function<void()>& enter, const std::function<void()>& body) {
  std::exception_ptr error;
  std::thread worker([&] {
    try {
      enter();
      body();
    } catch (...) {
      error = std::current_exception();
    }
  });
  worker.join();
  if (error) std::rethrow_exception(error);
}

// A nicety, not a need: a kernel without IPv6 has no such file, and a
// container may mount /proc/sys read-only; either way bridges just stay chattier.
void turn_off_ipv6_by_default() {
  const int fd = ::open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == EROFS || errno == EACCES) return;
    throw std::runtime_error(errno_text("open /proc/sys/net/ipv6/conf/default/disable_ipv6"));
  }
  kj::AutoCloseFd owned(fd);
  if (::write(fd, "1", 1) != 1) {
    throw std::runtime_error(errno_text("write /proc/sys/net/ipv6/conf/default/disable_ipv6"));
  }
}

}  // namespace

NetNamespace NetNamespace::create() {
  std::shared_ptr<State> state;
  run_on_fresh_thread(
      [] {
        // Only this thread moves; it ends right after, and the namespace is
        // kept alive by the fd and the socket opened here.
        if (::unshare(CLONE_NEWNET) != 0) throw std::runtime_error(errno_text("unshare(CLONE_NEWNET)"));
      },
      [&] {
        const int fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw std::runtime_error(errno_text("open /proc/thread-self/ns/net"));
        kj::AutoCloseFd namespace_fd(fd);
        turn_off_ipv6_by_default();
        state = std::make_shared<State>(State{kj::mv(namespace_fd), RouteSocket::open()});
      });
  return NetNamespace(std::move(state));
}

void NetNamespace::run_on_thread_inside(const std::function<void()>& body) const {
  const int fd = state_->namespace_fd.get();
  run_on_fresh_thread(
      [fd] {
        if (::setns(fd, CLONE_NEWNET) != 0) throw std::runtime_error(errno_text("setns(CLONE_NEWNET)"));
      },
      body);
}

}  // namespace provium::netsetup
