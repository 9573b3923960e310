// Signals addressed to the guest's init. busybox's halt, poweroff and reboot
// do not call reboot(2) themselves when an init is running: they send it
// SIGUSR1, SIGUSR2 or SIGTERM. The kernel drops signals to PID 1 that have no
// handler, so without this a test's `poweroff` would silently do nothing.
#pragma once

#include "event_loop.h"
#include "unique_fd.h"

namespace provium::agent {

class InitSignals {
 public:
  // Blocks the signals and acts on them from the loop.
  explicit InitSignals(EventLoop& loop);

 private:
  void on_signal();

  UniqueFd signal_fd_;
  Watch watch_;
};

}  // namespace provium::agent
