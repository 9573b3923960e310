// Child processes that were asked to finish (a worker whose channel was
// closed): each gets a grace period to exit by itself, which lets it clean up
// after its own children, and is then killed. Either way it is reaped, and
// only then forgotten, so a kill can never hit a recycled pid. Outlives host
// sessions: a session that ends hands its workers over here.
#pragma once

#include "child_reaper.h"
#include "event_loop.h"
#include "timers.h"

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>

namespace provium::agent {

inline constexpr std::chrono::milliseconds kRetirementGrace{2000};

class ProcessRetirement {
 public:
  ProcessRetirement(EventLoop& loop, ChildReaper& reaper, std::chrono::milliseconds grace = kRetirementGrace);

  // `pid` must be a child that has not been reaped yet (one the caller still
  // tracks); tracking moves here. `on_exit` may be empty.
  void retire(pid_t pid, std::function<void(int wait_status)> on_exit);

 private:
  EventLoop& loop_;
  ChildReaper& reaper_;
  std::chrono::milliseconds grace_;
  std::map<pid_t, std::unique_ptr<OneShotTimer>> kill_timers_;
};

}  // namespace provium::agent
