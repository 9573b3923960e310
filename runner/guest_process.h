// A Process (800-process.md): a guest process the agent spawned for
// vm:run_async or worker:run_async and does not wait on by itself.
//
// Its stdout and stderr are agent streams. proc:wait collects them into the
// RunResult (taking output while it waits, so a chatty process never stalls
// on a full credit window); proc:stdout_stream / stderr_stream hand a stream
// to test code instead, from its first byte, and the RunResult then holds
// nothing for it. At scope end (or when collected) a process still running
// gets SIGTERM, then SIGKILL after a grace, and is reaped.
#pragma once

#include "agent_client.h"
#include "guest_stream.h"
#include "vm.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace provium::runner {

class GuestWorker;

// How long a process gets between SIGTERM and SIGKILL when it is closed.
inline constexpr std::chrono::milliseconds kProcessTermGrace{2000};
// How long output may still arrive after the exit (a background child can
// hold the pipes open for ever; the agent's run allows much less).
inline constexpr std::chrono::milliseconds kOutputGraceAfterExit{2000};
// Teardown (close) waits no longer than this whatever the test's deadline.
inline constexpr std::chrono::milliseconds kProcessCloseLimit{10'000};
// What proc:wait keeps of each stream, like the agent's cap for vm:run:
// later bytes are read (so the writer never blocks) and counted, not kept.
inline constexpr std::size_t kProcessCaptureLimit = (32u << 20) - 2048;

class GuestProcess {
 public:
  // `worker` null: spawned by the main agent.
  GuestProcess(std::shared_ptr<Vm> vm, std::shared_ptr<GuestWorker> worker, SpawnedProcess spawned,
               std::string display);
  ~GuestProcess();
  GuestProcess(const GuestProcess&) = delete;
  GuestProcess& operator=(const GuestProcess&) = delete;

  std::int32_t pid() const { return spawned_.pid; }
  std::uint64_t handle() const { return spawned_.process; }
  const std::string& display() const { return display_; }
  Vm& vm() const { return *vm_; }

  // Errors are std::runtime_error "vm `a`: proc:<method> (pid N): ...".
  // Waits for the exit (for ever without `timeout`); when `timeout` runs
  // out the process group is killed and the result is timed_out. Once
  // waited, every later wait returns the same result.
  CommandResult wait(std::optional<Millis> timeout);
  // "running", or how it ended: "exited", "signalled", "timed_out".
  std::string status();
  // To the process (not its group); refused once it has exited.
  void signal(int signo, const char* method);
  std::uint64_t stdin_write(std::string_view data);
  void close_stdin();  // idempotent
  std::shared_ptr<GuestStream> output_stream(bool stderr_stream);
  // SIGTERM, up to kProcessTermGrace, SIGKILL; reaped. Idempotent; a no-op
  // once waited, or when the VM (or the worker) has gone.
  void close();
  bool finished() const { return result_.has_value(); }

 private:
  struct Output {
    StreamKey key;
    std::string kept;
    std::uint64_t discarded = 0;
    std::shared_ptr<GuestStream> handed_out;  // test code reads it
    bool collected = false;                   // ended and closed here
  };

  std::uint32_t worker_id() const;
  // The guest (or the worker) ended, and the process with it.
  bool gone() const;
  std::string op(const char* method) const;
  [[noreturn]] void fail(const char* method, const std::string& message) const;
  void require_running(const char* method) const;
  // Takes what the output streams buffered without reading the channel.
  void pump(AgentClient& agent, Deadline deadline);
  void keep(Output& output, const std::string& data);
  // After the exit: the rest of the output, until each stream ends or the grace runs out.
  void collect_rest(AgentClient& agent, Deadline deadline);
  // Signals the group; false if it had exited already.
  bool signal_group(AgentClient& agent, int signo, Deadline deadline);
  // Waits for the exit, TERM/KILL first when `terminate` (close).
  void finish(AgentClient& agent, Deadline deadline, std::optional<Millis> timeout, bool terminate);
  void close_handed_out();

  std::shared_ptr<Vm> vm_;
  std::shared_ptr<GuestWorker> worker_;
  SpawnedProcess spawned_;
  std::string display_;
  Output stdout_;
  Output stderr_;
  bool stdin_closed_ = false;
  bool closed_ = false;
  std::optional<ProcessExit> exit_;  // seen by status() before any wait
  std::optional<CommandResult> result_;
};

}  // namespace provium::runner
