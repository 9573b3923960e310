#include "process_retirement.h"

#include <signal.h>

namespace provium::agent {

ProcessRetirement::ProcessRetirement(EventLoop& loop, ChildReaper& reaper, std::chrono::milliseconds grace)
    : loop_(loop), reaper_(reaper), grace_(grace) {}

void ProcessRetirement::retire(pid_t pid, std::function<void(int wait_status)> on_exit) {
  auto timer = std::make_unique<OneShotTimer>(loop_);
  timer->arm(grace_, [pid] { ::kill(pid, SIGKILL); });  // still unreaped, so still this process
  kill_timers_[pid] = std::move(timer);
  reaper_.track(pid, [this, pid, on_exit = std::move(on_exit)](int wait_status) {
    kill_timers_.erase(pid);
    if (on_exit) on_exit(wait_status);
  });
}

}  // namespace provium::agent
