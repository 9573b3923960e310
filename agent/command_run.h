// One `run` request in flight: the spawned command, its stdin feed, its
// captured output and its timeout, all driven by the event loop so many runs
// (and pings) proceed at once.
//
// A run finishes when the command has exited and its stdout and stderr are at
// end of stream. A command can leave a background process holding the pipes
// open (`daemon &`); once the command itself has exited, the run waits at most
// kPipeGraceAfterExit for end of stream, then reports what it has.
#pragma once

#include "child_reaper.h"
#include "event_loop.h"
#include "output_capture.h"
#include "process_spawn.h"
#include "timers.h"
#include "unique_fd.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

namespace provium::agent {

// Per stream. Two full streams plus the response envelope and truncation
// notes must fit in one frame (see responses.cpp).
inline constexpr std::size_t kCaptureLimitBytes = (32u << 20) - 2048;
inline constexpr std::chrono::milliseconds kPipeGraceAfterExit{100};

struct RunOutcome {
  enum class Status { kExited, kSignalled, kTimedOut };
  Status status = Status::kExited;
  int exit_code = 0;  // -1 signalled, -2 timed out
  int signal = 0;     // set only when signalled
  std::vector<std::byte> stdout_bytes;
  std::vector<std::byte> stderr_bytes;
  std::uint64_t stdout_discarded = 0;
  std::uint64_t stderr_discarded = 0;
};

class CommandRun {
 public:
  using OnFinished = std::function<void(RunOutcome)>;

  // Spawns at once; throws std::system_error if that fails. `on_finished` is
  // called exactly once, from the loop; the run may be destroyed from there
  // only via EventLoop::defer.
  CommandRun(EventLoop& loop, ChildReaper& reaper, const SpawnRequest& request, std::vector<std::byte> stdin_data,
             std::chrono::milliseconds timeout, OnFinished on_finished);
  CommandRun(const CommandRun&) = delete;
  CommandRun& operator=(const CommandRun&) = delete;
  // Kills the whole process group if the command is still running.
  ~CommandRun();

 private:
  void watch_process(SpawnedProcess spawned, std::chrono::milliseconds timeout);
  void feed_stdin();
  void close_stdin();
  void read_stream(UniqueFd& fd, Watch& watch, OutputCapture& capture);
  void drain_after_exit(UniqueFd& fd, Watch& watch, OutputCapture& capture);
  void on_exit(int wait_status);
  void on_timeout();
  void finish_if_done();
  void finish();

  EventLoop& loop_;
  ChildReaper& reaper_;
  pid_t pid_ = -1;
  bool exited_ = false;
  bool timed_out_ = false;
  bool finished_ = false;
  int wait_status_ = 0;

  std::vector<std::byte> stdin_data_;
  std::size_t stdin_offset_ = 0;
  OutputCapture stdout_capture_{kCaptureLimitBytes};
  OutputCapture stderr_capture_{kCaptureLimitBytes};

  // Each fd is declared before its watch, so the watch goes first.
  UniqueFd stdin_fd_;
  Watch stdin_watch_;
  UniqueFd stdout_fd_;
  Watch stdout_watch_;
  UniqueFd stderr_fd_;
  Watch stderr_watch_;
  OneShotTimer timeout_timer_;
  OneShotTimer grace_timer_;
  OnFinished on_finished_;
};

}  // namespace provium::agent
