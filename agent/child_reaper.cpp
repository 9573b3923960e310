#include "child_reaper.h"

#include "log.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <cerrno>
#include <stdexcept>
#include <string>

namespace provium::agent {
namespace {

UniqueFd make_sigchld_fd() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  UniqueFd fd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd.valid()) throw std::runtime_error("signalfd failed: errno " + std::to_string(errno));
  return fd;
}

}  // namespace

void block_child_signals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
}

ChildReaper::ChildReaper(EventLoop& loop)
    : signal_fd_(make_sigchld_fd()),
      watch_(loop.watch(signal_fd_.get(), EPOLLIN, [this](std::uint32_t) { reap_all(); })) {}

void ChildReaper::track(pid_t pid, ExitCallback on_exit) { owners_[pid] = std::move(on_exit); }

void ChildReaper::forget(pid_t pid) { owners_.erase(pid); }

void ChildReaper::reap_all() {
  // Signals coalesce, so one readable signalfd may stand for many deaths:
  // drain it, then wait for every child that is ready.
  signalfd_siginfo info;
  while (::read(signal_fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
  }
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid == 0) return;
    if (pid < 0) {
      if (errno == EINTR) continue;
      if (errno != ECHILD) log_errno("waitpid", errno);
      return;
    }
    auto owner = owners_.find(pid);
    if (owner == owners_.end()) continue;  // an orphan, or a child whose owner is gone
    ExitCallback callback = std::move(owner->second);
    owners_.erase(owner);
    callback(status);
  }
}

}  // namespace provium::agent
