// Serves the protocol on one channel: decodes each request, answers the quick
// ones at once, and keeps long `run`s in flight so later requests (a ping after
// a slow command) are answered without waiting. Responses carry the request id
// and may go out in any order.
#pragma once

#include "agent.capnp.h"
#include "child_reaper.h"
#include "command_run.h"
#include "event_loop.h"
#include "frame_channel.h"
#include "timers.h"
#include "unique_fd.h"

#include <capnp/common.h>
#include <kj/array.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

namespace provium::agent {

class AgentSession {
 public:
  struct Options {
    FrameChannel::Kind channel_kind = FrameChannel::Kind::kSocket;
    // Carries out a powerOff once its `done` response has been written (or
    // could not be): powers the machine off in a guest, ends the agent locally.
    std::function<void()> power_off;
    // The channel ended for good (a socket peer closed).
    std::function<void()> on_channel_closed;
  };

  AgentSession(EventLoop& loop, ChildReaper& reaper, UniqueFd channel_fd, Options options);

 private:
  void on_frame(kj::Array<capnp::word> body);
  void on_garbage(const std::string& reason);
  void on_disconnected();
  void dispatch(std::uint64_t id, wire::agent::Request::Reader request);
  void handle_hello(std::uint64_t id, std::uint32_t host_version);
  void start_run(std::uint64_t id, wire::agent::RunRequest::Reader run);
  void begin_power_off(std::uint64_t id);
  void complete_power_off();
  void send(OutboundFrame frame);

  EventLoop& loop_;
  ChildReaper& reaper_;
  Options options_;
  FrameChannel channel_;
  // Runs in flight, keyed by a local serial (host ids need not be unique).
  std::map<std::uint64_t, std::unique_ptr<CommandRun>> runs_;
  std::uint64_t next_run_serial_ = 1;
  // Bumped when a host detaches or says hello: results of runs started for an
  // earlier host are not sent to the next one, whose ids may collide.
  std::uint64_t connection_epoch_ = 0;
  bool powering_off_ = false;
  OneShotTimer power_off_deadline_;
};

}  // namespace provium::agent
