// Serves the protocol on one channel: decodes each request, answers the quick
// ones at once, and keeps slow ones (runs, waits, blocked reads) in flight so
// later requests are answered without waiting. Responses carry the request id
// and may go out in any order; stream events go out as their data arrives.
//
// The main agent also routes requests addressed to a worker (Request.worker)
// to that worker's process and passes its frames back (see worker_table.h).
// The request handlers themselves are in session_requests.cpp.
#pragma once

#include "agent.capnp.h"
#include "child_reaper.h"
#include "command_run.h"
#include "event_loop.h"
#include "frame_channel.h"
#include "host_session.h"
#include "process_retirement.h"
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
    // Non-zero: this agent is that worker of a main agent. It serves what is
    // routed to it, refuses powerOff and workers of its own, and names itself
    // in every frame (see set_worker_stamp).
    std::uint32_t worker_id = 0;
    // How long a retired worker gets to exit by itself before it is killed.
    std::chrono::milliseconds retirement_grace = kRetirementGrace;
    // The file whose managed block setHosts rewrites.
    std::string hosts_file = "/etc/hosts";
  };

  AgentSession(EventLoop& loop, ChildReaper& reaper, UniqueFd channel_fd, Options options);

 private:
  void on_frame(kj::Array<capnp::word> body);
  void on_garbage(const std::string& reason);
  void on_disconnected();
  void on_room();
  void start_host_session();
  void send(OutboundFrame frame);
  bool is_worker() const { return options_.worker_id != 0; }

  void handle_hello(std::uint64_t id, std::uint32_t host_version);
  void start_run(std::uint64_t id, wire::agent::RunRequest::Reader run);
  void begin_power_off(std::uint64_t id);
  void complete_power_off();

  // session_requests.cpp
  void dispatch(std::uint64_t id, wire::agent::Request::Reader request);
  void start_process(std::uint64_t id, wire::agent::SpawnRequest::Reader spawn);
  void start_tail(std::uint64_t id, wire::agent::TailFileRequest::Reader tail);
  void start_fd_stream(std::uint64_t id, wire::agent::FdStreamRequest::Reader request);
  void start_file_stream(std::uint64_t id, wire::agent::ReadFileStreamRequest::Reader request);
  void close_worker(std::uint64_t id, std::uint32_t worker);
  void refuse_in_worker(const char* op) const;
  WorkerTable& workers(const char* op);

  EventLoop& loop_;
  ChildReaper& reaper_;
  Options options_;
  FrameChannel channel_;
  ProcessRetirement retirement_;
  // After what it refers to; replaced whenever a host session ends.
  std::unique_ptr<HostSession> host_;
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
