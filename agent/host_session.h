// Everything one host session owns in the agent: open file handles, streams,
// spawned processes and workers. A session ends when the host says hello
// again or goes away; the agent then drops this object whole, which closes
// the handles and streams, kills the processes (SIGKILL to their groups) and
// stops the workers. Nothing of it is visible to the next host.
#pragma once

#include "child_reaper.h"
#include "event_loop.h"
#include "file_handles.h"
#include "frame_channel.h"
#include "process_retirement.h"
#include "process_table.h"
#include "stream_table.h"
#include "worker_table.h"

#include <functional>
#include <optional>

namespace provium::agent {

struct HostSession {
  using Send = std::function<void(OutboundFrame)>;

  // `with_workers`: false in a worker agent (workers do not nest).
  HostSession(EventLoop& loop, ChildReaper& reaper, ProcessRetirement& retirement, FrameChannel& channel, Send send,
              bool with_workers)
      : files(loop, send), streams(loop, channel), processes(loop, reaper, streams, send) {
    if (with_workers) workers.emplace(loop, reaper, retirement, channel, send);
  }

  // Declaration order is teardown order reversed: workers and processes go
  // before the streams that carry their output.
  FileHandleTable files;
  StreamTable streams;
  ProcessTable processes;
  std::optional<WorkerTable> workers;
};

}  // namespace provium::agent
