#include "init_signals.h"

#include "power_control.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>

namespace provium::agent {
namespace {

sigset_t init_signal_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);  // halt
  sigaddset(&set, SIGUSR2);  // poweroff
  sigaddset(&set, SIGTERM);  // reboot
  return set;
}

}  // namespace

InitSignals::InitSignals(EventLoop& loop) {
  const sigset_t set = init_signal_set();
  // Commands the agent starts reset their mask before exec (process_spawn.cpp).
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  signal_fd_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd_.valid()) throw std::runtime_error("signalfd for init signals failed: errno " + std::to_string(errno));
  watch_ = loop.watch(signal_fd_.get(), EPOLLIN, [this](std::uint32_t) { on_signal(); });
}

void InitSignals::on_signal() {
  signalfd_siginfo info{};
  if (::read(signal_fd_.get(), &info, sizeof info) != static_cast<ssize_t>(sizeof info)) return;
  // A halted VM would just sit there; for a test VM, halt means off.
  if (info.ssi_signo == SIGTERM) reboot_guest();
  power_off_guest();
}

}  // namespace provium::agent
