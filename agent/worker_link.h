// The main agent's end of one worker: the worker process (this agent's own
// binary, exec'd with --worker and the credentials to take on), the socket
// its frames travel on, and what is owed to the host if the worker goes away.
//
// The main agent does not interpret worker traffic: requests are forwarded
// as they came, and frames from the worker (which name it in
// Response.worker) go to the host as they came. Only request ids are noted,
// so that requests a dead worker never answered get an error instead of
// silence.
#pragma once

#include "child_reaper.h"
#include "event_loop.h"
#include "frame_channel.h"
#include "outbound_frame.h"
#include "process_retirement.h"
#include "worker_credentials.h"

#include <capnp/common.h>
#include <kj/array.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>

namespace provium::agent {

// Requests forwarded to one worker and not answered yet.
inline constexpr std::size_t kMaxRequestsInFlightPerWorker = 65536;

class WorkerLink {
 public:
  struct Hooks {
    std::function<void(OutboundFrame)> to_host;
    std::function<bool()> host_has_room;
    // The worker's channel ended (it exited, or failed to start).
    std::function<void()> on_gone;
  };

  // Starts the worker and says hello to it with request id `spawn_id`; the
  // host's spawnWorker is answered once the worker answers that. Throws
  // std::system_error if it cannot be started at all.
  WorkerLink(EventLoop& loop, ChildReaper& reaper, ProcessRetirement& retirement, std::uint32_t worker,
             const WorkerCredentials& credentials, std::uint64_t spawn_id, Hooks hooks);
  WorkerLink(const WorkerLink&) = delete;
  WorkerLink& operator=(const WorkerLink&) = delete;
  // Closes the channel; the worker, seeing end of stream, shuts down and is
  // retired (killed if it takes longer than the grace period).
  ~WorkerLink();

  // `answered`: the request expects a response (all but streamCredit).
  void forward(std::uint64_t id, bool answered, kj::Array<capnp::word> body);
  // closeWorker: like destruction, but `on_exit` hears when it has exited.
  void close(std::function<void(int wait_status)> on_exit);
  void resume_reading() { channel_->set_reading(true); }
  pid_t pid() const { return pid_; }

 private:
  void open_channel(EventLoop& loop, UniqueFd fd);
  void on_frame(kj::Array<capnp::word> body);
  void on_channel_gone();
  void fail_unanswered(const std::string& why);

  std::uint32_t worker_;
  ChildReaper& reaper_;
  ProcessRetirement& retirement_;
  Hooks hooks_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  bool retired_ = false;
  std::optional<std::uint64_t> awaiting_hello_;  // the host's spawnWorker id
  std::multiset<std::uint64_t> unanswered_;
  std::optional<FrameChannel> channel_;
};

}  // namespace provium::agent
