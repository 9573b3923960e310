// The processes one host session spawned, by process id: starting them (with
// their output as streams), finding them for later requests, bounding how many
// there are and how much stdin waits for them, and forgetting each once a
// wait has reported its exit.
#pragma once

#include "async_process.h"
#include "child_reaper.h"
#include "event_loop.h"
#include "process_spawn.h"
#include "stream_table.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace provium::agent {

inline constexpr std::size_t kMaxProcesses = 64;
// stdin accepted but not yet taken by the processes, over all of them.
inline constexpr std::size_t kMaxQueuedStdinBytes = 32u << 20;

struct StartedProcess {
  std::uint64_t process = 0;
  pid_t pid = -1;
  std::uint64_t stdout_stream = 0;
  std::uint64_t stderr_stream = 0;
};

class ProcessTable {
 public:
  ProcessTable(EventLoop& loop, ChildReaper& reaper, StreamTable& streams, AsyncProcess::Send send);
  ProcessTable(const ProcessTable&) = delete;
  ProcessTable& operator=(const ProcessTable&) = delete;

  // Throws std::system_error (limits, spawn failures).
  StartedProcess spawn(const SpawnRequest& request, std::vector<std::byte> stdin_data, std::uint64_t credit);
  // Throws std::system_error (ESRCH) naming `op` if there is no such process.
  AsyncProcess& find(std::uint64_t process, const char* op);
  void write_stdin(std::uint64_t id, std::uint64_t process, std::vector<std::byte> data);

 private:
  void check_stdin_budget(std::size_t more) const;

  EventLoop& loop_;
  ChildReaper& reaper_;
  StreamTable& streams_;
  AsyncProcess::Send send_;
  std::map<std::uint64_t, std::unique_ptr<AsyncProcess>> processes_;
  std::uint64_t next_id_ = 1;
  Liveness liveness_;
};

}  // namespace provium::agent
