// One --vmm local "VM": provium-agent in its sandbox on this host
// (local_agent_spawn.h), no kernel. Its stdout and stderr are drained
// continuously by a ConsoleHub and stand in for the console (output only).
// The lifecycle verbs a kernel would serve (pause, resume, reset, power
// button) are refused with a reason.
// Destroying it kills the sandbox (PID 1 and with it everything in it).
#pragma once

#include <optional>
#include <string>

#include <kj/async-io.h>

#include "exit_watcher.h"
#include "local_agent_spawn.h"
#include "running_vm.h"
#include "console_hub.h"

namespace provium {

class LocalVm final : public RunningVm {
 public:
  // Sets up the sandbox and starts the agent (it has exec'd when this
  // returns); throws std::runtime_error naming the step that failed.
  LocalVm(kj::AsyncIoContext& io, const std::string& name, const LocalSandboxSpec& spec);
  LocalVm(const LocalVm&) = delete;
  LocalVm& operator=(const LocalVm&) = delete;
  ~LocalVm() noexcept(false) override { kill(); }

  // Nothing boots: ready unless the agent has already exited.
  kj::Promise<void> wait_ready(kj::Duration timeout) override;
  // SIGTERM to the sandbox's monitor, which kills PID 1 and waits until the
  // whole PID namespace is gone; SIGKILL after `grace`.
  kj::Promise<void> shutdown(kj::Duration grace) override;
  // The same, synchronously, waiting at most 2 s for the monitor before
  // SIGKILL to its process group; reaped.
  void kill() override;
  std::string console_tail(std::size_t max_bytes) const override { return output_.log().tail(max_bytes); }
  ConsoleHub& console() override { return output_; }
  kj::AutoCloseFd agent_fd_for_runner() override;
  kj::Promise<void> pause() override { return not_supported(); }
  kj::Promise<void> resume() override { return not_supported(); }
  kj::Promise<void> reset() override { return not_supported(); }
  kj::Promise<void> power_button(kj::Duration) override { return not_supported(); }

  bool running() { return process_.running() && !process_.poll(); }
  // The sandbox's monitor, outside it (its one child is the sandbox's PID 1).
  pid_t monitor_pid() const { return process_.pid(); }

 private:
  LocalVm(kj::AsyncIoContext& io, const std::string& name, SpawnedSandbox spawned);
  void ask_monitor_to_stop();
  kj::Promise<void> not_supported() const;

  kj::AsyncIoContext& io_;
  std::string name_;
  kj::AutoCloseFd agent_fd_;
  Subprocess process_;
  std::optional<ExitStatus> exit_status_;
  kj::Own<kj::AsyncInputStream> output_stream_;
  ConsoleHub output_;
  ExitWatcher exit_watcher_;
  kj::ForkedPromise<void> exited_;
  kj::Promise<void> output_drain_;
  // Last member, so destroyed first: promises handed out by wait_ready() and
  // shutdown() reject instead of running on a destroyed LocalVm.
  kj::Canceler canceler_;
};

}  // namespace provium
