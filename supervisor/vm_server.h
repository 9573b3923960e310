// The `Vm` capability a runner gets from createVm(). boot() starts the VM
// through the run's backend (QEMU, or the sandboxed local agent) and returns an
// AgentChannel whose getFd() carries our end of the agent channel to the
// runner (Cap'n Proto passes it as SCM_RIGHTS). The console, the lifecycle
// verbs and push_file's host files are served here too; every request is
// checked against the VM's state first.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

#include <kj/io.h>

#include "host_file_access.h"
#include "runner.capnp.h"
#include "snapshot_places.h"
#include "test_network.h"
#include "vm_fleet.h"
#include "vm_services.h"

namespace provium {

// A capability whose only content is a descriptor (read with getFd()).
template <typename Interface>
class FdCapabilityServer final : public Interface::Server {
 public:
  explicit FdCapabilityServer(kj::AutoCloseFd fd) : fd_(kj::mv(fd)) {}
  kj::Maybe<int> getFd() override { return fd_.get(); }

 private:
  kj::AutoCloseFd fd_;
};

using AgentChannelServer = FdCapabilityServer<wire::runner::AgentChannel>;
using ConsoleChannelServer = FdCapabilityServer<wire::runner::ConsoleChannel>;
using HostFileServer = FdCapabilityServer<wire::runner::HostFile>;
using CaptureChannelServer = FdCapabilityServer<wire::runner::CaptureChannel>;

class VmServer final : public wire::runner::Vm::Server {
 public:
  static constexpr std::uint32_t kMaxConsoleTail = 256 * 1024;

  VmServer(kj::Own<VmSlot> slot, const VmServices& services, const HostFileRoots& host_files, TestNetwork& network,
           SnapshotPlaces& snapshots)
      : slot_(kj::mv(slot)), services_(services), host_files_(host_files), network_(network), snapshots_(snapshots) {}
  // The runner dropped its last reference: nothing can use the VM any more.
  ~VmServer() noexcept(false) { slot_->release(); }

  kj::Promise<void> boot(BootContext context) override;
  kj::Promise<void> shutdown(ShutdownContext context) override;
  kj::Promise<void> consoleTail(ConsoleTailContext context) override;
  kj::Promise<void> consoleLog(ConsoleLogContext context) override;
  kj::Promise<void> openConsole(OpenConsoleContext context) override;
  kj::Promise<void> pause(PauseContext context) override;
  kj::Promise<void> resume(ResumeContext context) override;
  kj::Promise<void> reset(ResetContext context) override;
  kj::Promise<void> powerButton(PowerButtonContext context) override;
  kj::Promise<void> openHostFile(OpenHostFileContext context) override;
  kj::Promise<void> snapshot(SnapshotContext context) override;
  kj::Promise<void> restore(RestoreContext context) override;

  // What a restore gives the runner (Vm.restore, Session.vmFixture).
  struct Restored {
    kj::AutoCloseFd agent;
    std::uint64_t memory_bytes = 0;
    std::string accel;
    std::uint32_t cid = 0;
    std::array<kj::byte, 64> entropy{};
    std::int64_t host_time_ns = 0;
    std::vector<std::array<std::uint8_t, 6>> nic_macs;  // the snapshotted guest's, by slot
  };
  // Starts this created or shut-down VM from the snapshot file at `path`
  // (already opened as `ram` and checked into `info`), resolving once its
  // agent can be greeted.
  kj::Promise<Restored> restore_from(const std::filesystem::path& path, OwnedFd ram, const SnapshotInfo& info);

  // For a Bridge that got this VM back as a capability.
  VmSlot& slot() { return *slot_; }

 private:
  // The NIC slots a boot or restore of this VM starts with (none without a
  // backend that has network devices).
  GuestNics provision_nics();
  // The running VM, if the slot is in `wanted` and no other verb is under
  // way; throws naming the verb and the state otherwise.
  RunningVm& vm_for(const char* verb, VmState wanted);
  // Runs `step` with the slot marked as transitioning; on success the slot
  // moves to `after`.
  kj::Promise<void> transition(const char* verb, VmState from, VmState after,
                               kj::Function<kj::Promise<void>(RunningVm&)> step);

  kj::Own<VmSlot> slot_;
  const VmServices& services_;
  const HostFileRoots& host_files_;
  TestNetwork& network_;
  SnapshotPlaces& snapshots_;
};

// Fills the channel, info, entropy and host time of Vm.restore's or
// Session.vmFixture's results.
template <typename Results>
void fill_restore_results(VmServer::Restored& restored, Results results) {
  auto info = results.initInfo();
  info.setAccel(restored.accel);
  info.setCid(restored.cid);
  info.setMemoryBytes(restored.memory_bytes);
  results.setChannel(kj::heap<AgentChannelServer>(kj::mv(restored.agent)));
  results.setEntropy(capnp::Data::Reader(restored.entropy.data(), restored.entropy.size()));
  results.setHostTimeNs(restored.host_time_ns);
  auto macs = results.initNicMacs(static_cast<unsigned>(restored.nic_macs.size()));
  for (unsigned i = 0; i < macs.size(); ++i) {
    macs.set(i, capnp::Data::Reader(restored.nic_macs[i].data(), restored.nic_macs[i].size()));
  }
}

}  // namespace provium
