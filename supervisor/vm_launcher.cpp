#include "vm_launcher.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "guest_image.h"
#include "rng_feeder.h"

namespace provium {

namespace fs = std::filesystem;

VmLauncher::VmLauncher(kj::AsyncIoContext& io, VmHostSettings settings)
    : io_(io), settings_(std::move(settings)), overlays_(settings_.overlay_cache_dir) {}

// The profile's agent_overlay_path, else $PROVIUM_OVERLAY, else the bundled one.
fs::path VmLauncher::agent_overlay_for(const BootPlan& plan) const {
  std::optional<fs::path> overlay = plan.agent_overlay;
  if (!overlay) {
    if (const char* env = std::getenv("PROVIUM_OVERLAY"); env && *env) overlay = fs::path(env);
  }
  if (!overlay) overlay = settings_.bundled_overlay;
  std::error_code ignored;
  if (!overlay || !fs::is_regular_file(*overlay, ignored)) {
    throw std::runtime_error(fmt::format(
        "inject_agent needs the agent overlay cpio, which was not found ({}); set agent_overlay_path in the profile, "
        "set PROVIUM_OVERLAY, or set inject_agent = false",
        overlay ? overlay->string() : "no bundled guest"));
  }
  return *overlay;
}

// vhost-vsock CIDs are host-wide: spread runs apart by pid.
std::uint32_t VmLauncher::next_vsock_cid() {
  return 3 + (static_cast<std::uint32_t>(::getpid()) * 256 + vsock_counter_++) % 0x7fff0000u;
}

kj::Own<QemuVm> VmLauncher::launch(const BootPlan& plan, GuestNics nics) {
  try {
    if (!settings_.qemu_binary) throw std::runtime_error("qemu-system-x86_64 was not found on PATH");
    const fs::path initrd = plan.inject_agent ? overlays_.merged(plan.initrd, agent_overlay_for(plan)) : plan.initrd;
    QemuSpawnRequest request{
        .qemu_binary = settings_.qemu_binary->string(),
        .accel = settings_.accel,
        .privileges = settings_.privileges,
        .plan = &plan,
        .image = open_guest_image(plan.kernel, initrd, plan.files, settings_.privileges.switch_user),
    };
    request.nics = std::move(nics.backends);
    request.nic_macs = std::move(nics.macs);
    if (settings_.vsock_available) request.vsock_cid = next_vsock_cid();
    if (!plan.rng_seed) return kj::heap<QemuVm>(io_, plan.vm_name, kj::mv(request));
    int rng_pipe[2];
    if (::pipe2(rng_pipe, O_CLOEXEC) != 0) throw std::runtime_error(fmt::format("rng_seed: pipe: {}", std::strerror(errno)));
    request.rng_source = kj::AutoCloseFd(rng_pipe[0]);
    kj::AutoCloseFd rng_sink(rng_pipe[1]);
    auto vm = kj::heap<QemuVm>(io_, plan.vm_name, kj::mv(request));  // QEMU now holds the only read end
    // Lives as long as the VM: the guest may read /dev/hwrng at any time.
    return vm.attach(kj::heap<RngFeeder>(io_, kj::mv(rng_sink), *plan.rng_seed));
  } catch (const std::exception& error) {
    throw std::runtime_error(fmt::format("cannot boot VM `{}`: {}", plan.vm_name, error.what()));
  }
}

LaunchedVm VmLauncher::launch_vm(const std::string& name, const Profile& profile, const VmRequest& request,
                                 GuestNics nics) {
  const BootPlan plan = make_boot_plan(name, profile, request);
  return LaunchedVm{launch(plan, std::move(nics)), plan.memory_bytes};
}

}  // namespace provium
