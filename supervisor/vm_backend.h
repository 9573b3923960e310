// What the Vm server boots VMs with: QEMU (vm_launcher.h) or, with --vmm local,
// a sandboxed agent process on this host (local_launcher.h). One per run.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <kj/memory.h>

#include "config.h"
#include "file_network.h"
#include "owned_fd.h"
#include "running_vm.h"
#include "snapshot_file.h"
#include "vm_request.h"

namespace provium {

// The network devices a VM boots with: one slot per backend, each with its
// MAC address (docs/networking.md). Empty for a VM without NIC slots.
struct GuestNics {
  std::vector<net::GuestNicBackend> backends;
  std::vector<std::string> macs;
};

// A snapshot file opened for a restore (snapshot_file.h): QEMU maps `ram`
// copy-on-write and reads the device state from `state` (positioned at it).
struct SnapshotSource {
  OwnedFd ram;
  OwnedFd state;
  SnapshotInfo info;
};

struct LaunchedVm {
  kj::Own<RunningVm> vm;          // started, not yet ready (RunningVm::wait_ready)
  std::uint64_t memory_bytes = 0;  // reported to the runner in VmInfo
  std::uint32_t cpus = 1;
};

class VmBackend {
 public:
  virtual ~VmBackend() = default;

  // Starts VM `name` from `profile` and the runner's checked options (creation
  // and boot options merged). Throws std::runtime_error or VmRequestError
  // naming the VM and the option, file or step at fault. `nics` go to the
  // VM as its NIC slots (only a backend with network devices gets any).
  virtual LaunchedVm launch_vm(const std::string& name, const Profile& profile, const VmRequest& request,
                               GuestNics nics) = 0;
  // Starts VM `name` from a snapshot instead of a cold boot: same profile,
  // the snapshot's memory size, CPU count and NIC slots. Throws as launch_vm.
  virtual LaunchedVm restore_vm(const std::string& name, const Profile& profile, const VmRequest& request,
                                GuestNics nics, SnapshotSource snapshot) {
    (void)name, (void)profile, (void)request, (void)nics, (void)snapshot;
    throw std::runtime_error("this VM backend cannot restore snapshots (--vmm local): use --vmm qemu");
  }
  // Whether VMs of this backend have NIC slots (bridges need them).
  virtual bool has_nic_slots() const = 0;
  // VmInfo.accel: "kvm", "tcg" or "local".
  virtual std::string accel_name() const = 0;
};

}  // namespace provium
