// A started VM as the Vm server sees it, whichever backend runs it: QEMU
// (qemu_vm.h) or, with --vmm local, a sandboxed agent process (local_vm.h).
// Destroying one kills whatever it started and reaps it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <kj/async.h>
#include <kj/io.h>
#include <kj/time.h>

namespace provium {

class RunningVm {
 public:
  // kj::AutoCloseFd members may throw from destructors.
  virtual ~RunningVm() noexcept(false) = default;

  // Resolves once the VM can take the agent connection; rejects with what the
  // VM printed if it dies or does not get there within `timeout`.
  virtual kj::Promise<void> wait_ready(kj::Duration timeout) = 0;
  // Asks the VM to stop, then kills it after `grace`; reaped either way.
  virtual kj::Promise<void> shutdown(kj::Duration grace) = 0;
  // Immediate kill and reap.
  virtual void kill() = 0;
  // The end of what the VM printed (the guest console, or the local agent's stderr).
  virtual std::string console_tail(std::size_t max_bytes) const = 0;
  // Our end of the agent channel, handed to the runner once.
  virtual kj::AutoCloseFd take_agent_fd() = 0;
  // The guest's vsock CID, when it has vsock.
  virtual std::optional<std::uint32_t> vsock_cid() const { return std::nullopt; }
};

}  // namespace provium
