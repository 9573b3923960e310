// The `Vm` capability a runner gets from createVm(). boot() starts the VM
// through the run's backend (QEMU, or the sandboxed local agent) and returns an
// AgentChannel whose getFd() carries our end of the agent channel to the
// runner (Cap'n Proto passes it as SCM_RIGHTS).
#pragma once

#include <kj/io.h>

#include "runner.capnp.h"
#include "vm_fleet.h"
#include "vm_services.h"

namespace provium {

class AgentChannelServer final : public wire::runner::AgentChannel::Server {
 public:
  explicit AgentChannelServer(kj::AutoCloseFd fd) : fd_(kj::mv(fd)) {}
  kj::Maybe<int> getFd() override { return fd_.get(); }

 private:
  kj::AutoCloseFd fd_;
};

class VmServer final : public wire::runner::Vm::Server {
 public:
  static constexpr std::uint32_t kMaxConsoleTail = 256 * 1024;

  VmServer(kj::Own<VmSlot> slot, const VmServices& services) : slot_(kj::mv(slot)), services_(services) {}
  // The runner dropped its last reference: nothing can use the VM any more.
  ~VmServer() noexcept(false) { slot_->release(); }

  kj::Promise<void> boot(BootContext context) override;
  kj::Promise<void> shutdown(ShutdownContext context) override;
  kj::Promise<void> consoleTail(ConsoleTailContext context) override;

 private:
  kj::Own<VmSlot> slot_;
  const VmServices& services_;
};

}  // namespace provium
