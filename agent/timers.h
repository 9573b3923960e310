// Timers on timerfds that run a callback from the event loop: one-shot ones for
// run timeouts and bounded waits, a periodic one for polling a disconnected port.
#pragma once

#include "event_loop.h"
#include "unique_fd.h"

#include <chrono>
#include <functional>

namespace provium::agent {

class OneShotTimer {
 public:
  explicit OneShotTimer(EventLoop& loop);

  // (Re)arms the timer; an earlier arming is forgotten.
  void arm(std::chrono::milliseconds delay, std::function<void()> on_expiry);
  void cancel();
  bool armed() const { return static_cast<bool>(on_expiry_); }

 private:
  void on_readable();

  UniqueFd fd_;
  Watch watch_;
  std::function<void()> on_expiry_;
};

// Same, but fires every `period` until cancelled.
class PeriodicTimer {
 public:
  explicit PeriodicTimer(EventLoop& loop);
  void start(std::chrono::milliseconds period, std::function<void()> on_tick);
  void cancel();

 private:
  UniqueFd fd_;
  Watch watch_;
  std::function<void()> on_tick_;
};

}  // namespace provium::agent
