// A started VM as the Vm server sees it, whichever backend runs it: QEMU
// (qemu_vm.h) or, with --vmm local, a sandboxed agent process (local_vm.h).
// Destroying one kills whatever it started and reaps it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <kj/async.h>
#include <kj/exception.h>
#include <kj/io.h>
#include <kj/time.h>

#include "console_hub.h"

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
  // The VM's console: its kept log and the channels the runner reads and writes.
  virtual ConsoleHub& console() = 0;
  // A descriptor for our end of the agent channel, for the runner (the VM
  // keeps its own).
  virtual kj::AutoCloseFd agent_fd_for_runner() = 0;

  // Lifecycle verbs; each rejects with a reason the runner can show (for
  // example that the backend cannot do it). The caller checks the VM's state.
  virtual kj::Promise<void> pause() = 0;
  virtual kj::Promise<void> resume() = 0;
  // Warm reboot. Resolves once the guest is running again, with nothing of
  // the old agent left unread on the agent channel.
  virtual kj::Promise<void> reset() = 0;
  // Presses the power button and resolves once the VM has exited; rejects if
  // it is still running after `grace` (it is then killed).
  virtual kj::Promise<void> power_button(kj::Duration grace) = 0;
  // Plugs NIC slot `slot`'s cable in or out (QMP set_link), as the guest sees it.
  virtual kj::Promise<void> set_link(std::size_t slot, bool up) {
    (void)slot, (void)up;
    return kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__,
                         kj::heapString("this VM backend has no network devices"));
  }
  // Writes the guest's RAM and device state into `into_fd` (snapshot_file.h
  // adds the metadata after). A running guest is stopped meanwhile and runs
  // on afterwards; a paused one stays paused.
  virtual kj::Promise<void> snapshot(int into_fd) {
    (void)into_fd;
    return kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__,
                         kj::heapString("this VM backend cannot take snapshots (--vmm local): use --vmm qemu"));
  }
  // The guest's vsock CID, when it has vsock.
  virtual std::optional<std::uint32_t> vsock_cid() const { return std::nullopt; }
};

}  // namespace provium
