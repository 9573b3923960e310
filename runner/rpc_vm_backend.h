// A VM held by the supervisor, driven over wire::runner::Vm.
#pragma once

#include "supervisor_link.h"

#include <runner.capnp.h>

#include <kj/async.h>
#include <kj/timer.h>

namespace provium::runner {

// Our own copy of the agent connection an AgentChannel carries.
kj::AutoCloseFd carried_agent_fd(wire::runner::AgentChannel::Client channel, kj::WaitScope& wait_scope);

class RpcVmBackend final : public VmBackend {
 public:
  RpcVmBackend(wire::runner::Vm::Client vm, VmResources defaults, kj::WaitScope& wait_scope, kj::Timer& timer)
      : vm_(kj::mv(vm)), defaults_(defaults), wait_scope_(wait_scope), timer_(timer) {}
  // Cap'n Proto clients may throw from their destructors; we do not let them.
  ~RpcVmBackend() noexcept override = default;

  // The agent fd arrives attached to the returned AgentChannel capability
  // (Capability::Client::getFd()); we keep our own dup of it, since the
  // RPC system closes its copy when the capability is released.
  BootedVm boot(const VmSpec& spec, Deadline deadline) override;
  void shutdown() override;
  std::string console_tail(std::uint32_t max_bytes) override;
  std::optional<VmResources> default_resources() const override { return defaults_; }
  std::string console_log() override;
  kj::AutoCloseFd open_console(bool output, bool input) override;
  void pause() override;
  void resume() override;
  kj::AutoCloseFd reset(Deadline deadline) override;
  void power_button(Deadline deadline) override;
  HostFileOpened open_host_file(const std::string& host_path, const std::string& relative_to) override;
  SnapshotTaken snapshot(const std::string& path, Deadline deadline) override;
  RestoredVm restore(const std::string& path, Deadline deadline) override;
  std::unique_ptr<PendingRestore> start_restore(const std::string& path, Deadline deadline) override;

  // For Bridge.attach, which names VMs by capability.
  wire::runner::Vm::Client client() { return vm_; }

 private:
  wire::runner::Vm::Client vm_;
  VmResources defaults_;
  kj::WaitScope& wait_scope_;
  kj::Timer& timer_;
};

}  // namespace provium::runner
