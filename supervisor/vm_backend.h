// What the Vm server boots VMs with: QEMU (vm_launcher.h) or, with --vmm local,
// a sandboxed agent process on this host (local_launcher.h). One per run.
#pragma once

#include <cstdint>
#include <string>

#include <kj/memory.h>

#include "config.h"
#include "running_vm.h"
#include "vm_request.h"

namespace provium {

struct LaunchedVm {
  kj::Own<RunningVm> vm;          // started, not yet ready (RunningVm::wait_ready)
  std::uint64_t memory_bytes = 0;  // reported to the runner in VmInfo
};

class VmBackend {
 public:
  virtual ~VmBackend() = default;

  // Starts VM `name` from `profile` and the runner's checked options (creation
  // and boot options merged). Throws std::runtime_error or VmRequestError
  // naming the VM and the option, file or step at fault.
  virtual LaunchedVm launch_vm(const std::string& name, const Profile& profile, const VmRequest& request) = 0;
  // VmInfo.accel: "kvm", "tcg" or "local".
  virtual std::string accel_name() const = 0;
};

}  // namespace provium
