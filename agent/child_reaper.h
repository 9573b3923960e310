// Collects the exit status of every child that dies (SIGCHLD via signalfd +
// waitpid(-1)). As PID 1 the agent also inherits orphans from the whole guest;
// those are reaped and forgotten, while the status of a process the agent
// started is delivered to whoever registered that pid, so reaping orphans never
// steals a status the agent is waiting for.
#pragma once

#include "event_loop.h"
#include "unique_fd.h"

#include <sys/types.h>

#include <functional>
#include <unordered_map>

namespace provium::agent {

class ChildReaper {
 public:
  using ExitCallback = std::function<void(int wait_status)>;

  // SIGCHLD must already be blocked (see block_child_signals()).
  explicit ChildReaper(EventLoop& loop);

  // Call right after fork(), before returning to the loop: the status cannot
  // be collected earlier because reaping only happens from the loop.
  void track(pid_t pid, ExitCallback on_exit);
  // The owner lost interest; the pid will be reaped as an orphan.
  void forget(pid_t pid);

 private:
  void reap_all();

  UniqueFd signal_fd_;
  Watch watch_;
  std::unordered_map<pid_t, ExitCallback> owners_;
};

// Blocks SIGCHLD in the calling thread so it is only seen through the signalfd.
// Children must unblock it again before exec (see process_spawn.cpp).
void block_child_signals();

}  // namespace provium::agent
