// One --vmm local "VM": provium-agent in its sandbox on this host
// (local_agent_spawn.h), no kernel. Its stdout and stderr are drained
// continuously into a 256 KiB ring, which stands in for the console.
// Destroying it kills the sandbox (PID 1 and with it everything in it).
#pragma once

#include <optional>
#include <string>

#include <kj/async-io.h>

#include "exit_watcher.h"
#include "local_agent_spawn.h"
#include "running_vm.h"
#include "stream_drain.h"
#include "tail_buffer.h"

namespace provium {

class LocalVm final : public RunningVm {
 public:
  static constexpr std::size_t kOutputCapacity = 256 * 1024;

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
  std::string console_tail(std::size_t max_bytes) const override { return output_.tail(max_bytes); }
  kj::AutoCloseFd take_agent_fd() override { return kj::mv(agent_fd_); }

  bool running() { return process_.running() && !process_.poll(); }
  // The sandbox's monitor, outside it (its one child is the sandbox's PID 1).
  pid_t monitor_pid() const { return process_.pid(); }

 private:
  LocalVm(kj::AsyncIoContext& io, const std::string& name, SpawnedSandbox spawned);
  void ask_monitor_to_stop();

  kj::AsyncIoContext& io_;
  std::string name_;
  TailBuffer output_{kOutputCapacity};
  kj::AutoCloseFd agent_fd_;
  Subprocess process_;
  std::optional<ExitStatus> exit_status_;
  kj::Own<kj::AsyncInputStream> output_stream_;
  ExitWatcher exit_watcher_;
  kj::ForkedPromise<void> exited_;
  kj::Promise<void> output_drain_;
  // Last member, so destroyed first: promises handed out by wait_ready() and
  // shutdown() reject instead of running on a destroyed LocalVm.
  kj::Canceler canceler_;
};

}  // namespace provium
