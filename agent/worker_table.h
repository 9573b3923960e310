// The workers one host session started (spawnWorker), by worker id: routing
// requests to them, closing them, and pausing their output while the host
// channel is congested.
//
// Design: a worker is a second agent process (this same binary), not a thread
// or a logical id. That gives real concurrency (a worker blocked in a raw
// syscall or a slow file operation stalls only itself) and real credentials
// (the process has the worker's uid, gid and groups, so everything it does,
// including file handles and raw syscalls, is checked by the kernel as that
// user), with no per-operation credential switching in the main agent.
#pragma once

#include "child_reaper.h"
#include "event_loop.h"
#include "frame_channel.h"
#include "process_retirement.h"
#include "worker_link.h"

#include <capnp/common.h>
#include <kj/array.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

namespace provium::agent {

inline constexpr std::size_t kMaxWorkers = 16;

class WorkerTable {
 public:
  using Send = std::function<void(OutboundFrame)>;

  WorkerTable(EventLoop& loop, ChildReaper& reaper, ProcessRetirement& retirement, FrameChannel& host, Send send);
  WorkerTable(const WorkerTable&) = delete;
  WorkerTable& operator=(const WorkerTable&) = delete;

  // Answers request `id` with workerStarted once the worker is serving.
  void spawn(std::uint64_t id, const WorkerCredentials& credentials);
  // Throws std::system_error (ENOENT) if there is no such worker.
  void forward(std::uint32_t worker, std::uint64_t id, bool answered, kj::Array<capnp::word> body);
  // `on_exit` runs once the worker has exited.
  void close(std::uint32_t worker, std::function<void()> on_exit);
  // The host channel has room again.
  void resume_all();

 private:
  WorkerLink& find(std::uint32_t worker, const char* op);

  EventLoop& loop_;
  ChildReaper& reaper_;
  ProcessRetirement& retirement_;
  FrameChannel& host_;
  Send send_;
  std::map<std::uint32_t, std::unique_ptr<WorkerLink>> workers_;
  std::uint32_t next_id_ = 1;
  Liveness liveness_;
};

}  // namespace provium::agent
