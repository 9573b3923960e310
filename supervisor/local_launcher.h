// The --vmm local backend: each VM is provium-agent in a sandbox on this host
// (local_vm.h), no kernel. From a profile it takes only the memory size, which
// caps the sandbox's scratch tmpfs mounts; the kernel, initrd and cmdline are
// not used. Options that only a kernel could honour are refused, not ignored.
#pragma once

#include <filesystem>

#include <kj/async-io.h>

#include "qemu_privileges.h"
#include "vm_backend.h"

namespace provium {

struct LocalHostSettings {
  std::filesystem::path agent_binary;
  PrivilegeDrop identity;  // plan_privilege_drop(false): `nobody` when we are root
};

class LocalVmLauncher final : public VmBackend {
 public:
  LocalVmLauncher(kj::AsyncIoContext& io, LocalHostSettings settings) : io_(io), settings_(std::move(settings)) {}

  LaunchedVm launch_vm(const std::string& name, const Profile& profile, const VmRequest& request,
                       GuestNics nics) override;
  bool has_nic_slots() const override { return false; }
  std::string accel_name() const override { return "local"; }

 private:
  kj::AsyncIoContext& io_;
  LocalHostSettings settings_;
};

// Throws VmRequestError for options --vmm local cannot honour (kernel_cmdline,
// rng_seed, initial_time).
void check_local_request(const VmRequest& request);

}  // namespace provium
