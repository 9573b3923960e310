// A process the host drives itself (spawn, vm:run_async): no deadline of its
// own, stdin fed by processWrite as the pipe accepts it, signals on request,
// and any number of bounded waits for its exit. Its stdout and stderr are
// streams (see stream_table.h), owned apart from it.
#pragma once

#include "child_reaper.h"
#include "event_loop.h"
#include "outbound_frame.h"
#include "process_spawn.h"
#include "timers.h"
#include "unique_fd.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace provium::agent {

inline constexpr std::size_t kMaxWaitsPerProcess = 16;

class AsyncProcess {
 public:
  using Send = std::function<void(OutboundFrame)>;

  // Takes the process's stdin pipe (stdout and stderr are the caller's).
  // `on_exit_reported` runs (from the loop) once a wait has told the host
  // about the exit; the process may then be destroyed, via EventLoop::defer.
  AsyncProcess(EventLoop& loop, ChildReaper& reaper, pid_t pid, UniqueFd stdin_write, Send send,
               std::function<void()> on_exit_reported);
  AsyncProcess(const AsyncProcess&) = delete;
  AsyncProcess& operator=(const AsyncProcess&) = delete;
  // Kills the whole process group if it is still running; it is reaped as an
  // orphan.
  ~AsyncProcess();

  pid_t pid() const { return pid_; }

  // Queues `data` for stdin. With an id, answers `written` once all of it is
  // in the pipe (or an error if the process closed its stdin first).
  void write_stdin(std::optional<std::uint64_t> id, std::vector<std::byte> data);
  // Closes stdin once the queued writes are in. Idempotent.
  void close_stdin();
  // Throws std::system_error (ESRCH once the process has exited).
  void signal(int signo, bool group);
  // Answers processState now if it has exited or `limit` is 0, else at exit
  // or when `limit` (nullopt: none) runs out. Throws when too many wait.
  void wait(std::uint64_t id, std::optional<std::chrono::milliseconds> limit);

  std::size_t queued_stdin_bytes() const { return queued_stdin_bytes_; }

 private:
  struct QueuedWrite {
    std::optional<std::uint64_t> id;
    std::vector<std::byte> data;
    std::size_t offset = 0;
  };

  void feed_stdin();
  void fail_queued_writes(int error_number, const char* why);
  void release_stdin();
  void on_exit(int wait_status);
  void report_exit(std::uint64_t id);

  EventLoop& loop_;
  ChildReaper& reaper_;
  pid_t pid_;
  Send send_;
  std::function<void()> on_exit_reported_;
  std::optional<int> wait_status_;
  bool exit_reported_ = false;

  std::deque<QueuedWrite> stdin_queue_;
  std::size_t queued_stdin_bytes_ = 0;
  bool close_stdin_when_flushed_ = false;
  UniqueFd stdin_fd_;
  Watch stdin_watch_;

  // Waits with a limit, each with its timer; waits without one have none.
  std::uint64_t next_wait_ = 1;
  std::map<std::uint64_t, std::pair<std::uint64_t, std::unique_ptr<OneShotTimer>>> waits_;
  Liveness liveness_;
};

}  // namespace provium::agent
