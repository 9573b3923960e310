// "There is work to do on a later turn" for sources epoll cannot watch, such
// as regular files (always readable, and epoll refuses them). An eventfd that
// is readable while raised lets such work take turns with every other fd
// instead of running in a loop that starves them.
#pragma once

#include "event_loop.h"
#include "unique_fd.h"

#include <functional>

namespace provium::agent {

class ReadySignal {
 public:
  ReadySignal(EventLoop& loop, std::function<void()> on_ready);
  ReadySignal(const ReadySignal&) = delete;
  ReadySignal& operator=(const ReadySignal&) = delete;

  // `on_ready` runs once on a later loop turn, however often this is called.
  void raise();
  void lower();

 private:
  void on_readable();

  UniqueFd fd_;
  Watch watch_;
  std::function<void()> on_ready_;
  bool raised_ = false;
};

}  // namespace provium::agent
