// The QEMU backend: turns a BootPlan into a running QemuVm. Shared by every
// file of a run: it holds the host decisions made once (QEMU binary,
// accelerator, privilege drop, vsock) and the agent overlay cache.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <kj/async-io.h>

#include "accel_choice.h"
#include "agent_overlay.h"
#include "boot_plan.h"
#include "qemu_privileges.h"
#include "qemu_vm.h"
#include "vm_backend.h"

namespace provium {

struct VmHostSettings {
  std::optional<std::filesystem::path> qemu_binary;  // unset: not found on PATH
  Accel accel = Accel::tcg;
  PrivilegeDrop privileges;
  std::optional<std::filesystem::path> bundled_overlay;  // <guest dir>/agent-overlay.cpio
  std::filesystem::path overlay_cache_dir;
  bool vsock_available = false;  // /dev/vhost-vsock exists
};

class VmLauncher final : public VmBackend {
 public:
  VmLauncher(kj::AsyncIoContext& io, VmHostSettings settings);

  // Starts QEMU (not yet ready: see QemuVm::wait_ready). Throws
  // std::runtime_error naming the VM and the file or step at fault.
  kj::Own<QemuVm> launch(const BootPlan& plan, GuestNics nics = {});
  // As launch(), from a snapshot (see VmBackend::restore_vm).
  kj::Own<QemuVm> launch_restore(const BootPlan& plan, GuestNics nics, SnapshotSource snapshot);
  Accel accel() const { return settings_.accel; }

  // VmBackend: make_boot_plan() from the profile and request, then launch().
  LaunchedVm launch_vm(const std::string& name, const Profile& profile, const VmRequest& request,
                       GuestNics nics) override;
  LaunchedVm restore_vm(const std::string& name, const Profile& profile, const VmRequest& request, GuestNics nics,
                        SnapshotSource snapshot) override;
  bool has_nic_slots() const override { return true; }
  std::string accel_name() const override { return to_string(settings_.accel); }

 private:
  std::filesystem::path agent_overlay_for(const BootPlan& plan) const;
  std::uint32_t next_vsock_cid();
  QemuSpawnRequest spawn_request(const BootPlan& plan, GuestNics nics);

  kj::AsyncIoContext& io_;
  VmHostSettings settings_;
  AgentOverlayCache overlays_;
  std::uint32_t vsock_counter_ = 0;
};

}  // namespace provium
