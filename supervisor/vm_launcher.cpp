#include "vm_launcher.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "guest_image.h"
#include "guest_ram.h"
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

QemuSpawnRequest VmLauncher::spawn_request(const BootPlan& plan, GuestNics nics) {
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
  return request;
}

kj::Own<QemuVm> VmLauncher::launch(const BootPlan& plan, GuestNics nics) {
  try {
    QemuSpawnRequest request = spawn_request(plan, std::move(nics));
    GuestRam ram = GuestRam::create(plan.memory_bytes, plan.vm_name);
    const std::uint64_t ram_bytes = ram.bytes();
    OwnedFd ram_fd(::fcntl(ram.fd(), F_DUPFD_CLOEXEC, 3));
    if (!ram_fd.valid()) throw std::runtime_error(fmt::format("guest RAM: dup: {}", std::strerror(errno)));
    request.ram_fd = ram_fd.get();
    if (!plan.rng_seed) return kj::heap<QemuVm>(io_, plan.vm_name, kj::mv(request), std::move(ram_fd), ram_bytes);
    int rng_pipe[2];
    if (::pipe2(rng_pipe, O_CLOEXEC) != 0) throw std::runtime_error(fmt::format("rng_seed: pipe: {}", std::strerror(errno)));
    request.rng_source = kj::AutoCloseFd(rng_pipe[0]);
    kj::AutoCloseFd rng_sink(rng_pipe[1]);
    // QEMU now holds the only read end.
    auto vm = kj::heap<QemuVm>(io_, plan.vm_name, kj::mv(request), std::move(ram_fd), ram_bytes);
    // Lives as long as the VM: the guest may read /dev/hwrng at any time.
    return vm.attach(kj::heap<RngFeeder>(io_, kj::mv(rng_sink), *plan.rng_seed));
  } catch (const std::exception& error) {
    throw std::runtime_error(fmt::format("cannot boot VM `{}`: {}", plan.vm_name, error.what()));
  }
}

kj::Own<QemuVm> VmLauncher::launch_restore(const BootPlan& plan, GuestNics nics, SnapshotSource snapshot) {
  try {
    if (snapshot.info.accel != to_string(settings_.accel)) {
      throw std::runtime_error(fmt::format("it was taken under {} and this run uses {}", snapshot.info.accel,
                                           to_string(settings_.accel)));
    }
    QemuSpawnRequest request = spawn_request(plan, std::move(nics));
    // QEMU reopens its RAM file through /dev/fd/N for reading and writing
    // (mapped private: it never writes the file); as another user it must own it.
    if (settings_.privileges.switch_user &&
        ::fchown(snapshot.ram.get(), settings_.privileges.uid, settings_.privileges.gid) != 0) {
      throw std::runtime_error(fmt::format("cannot hand the snapshot to QEMU's user: {}", std::strerror(errno)));
    }
    request.ram_fd = snapshot.ram.get();
    request.ram_shared = false;
    request.incoming_fd = snapshot.state.get();
    return kj::heap<QemuVm>(io_, plan.vm_name, kj::mv(request), std::move(snapshot.ram), snapshot.info.ram_bytes);
  } catch (const std::exception& error) {
    throw std::runtime_error(fmt::format("cannot restore VM `{}`: {}", plan.vm_name, error.what()));
  }
}

LaunchedVm VmLauncher::launch_vm(const std::string& name, const Profile& profile, const VmRequest& request,
                                 GuestNics nics) {
  const BootPlan plan = make_boot_plan(name, profile, request);
  return LaunchedVm{launch(plan, std::move(nics)), plan.memory_bytes, plan.cpus};
}

}  // namespace provium

namespace provium {

LaunchedVm VmLauncher::restore_vm(const std::string& name, const Profile& profile, const VmRequest& request,
                                  GuestNics nics, SnapshotSource snapshot) {
  const SnapshotInfo& info = snapshot.info;
  if (request.memory_bytes != 0 && request.memory_bytes != info.ram_bytes) {
    throw VmRequestError(fmt::format("VM `{}` asks for {} MiB of memory but the snapshot has {} MiB", name,
                                     request.memory_bytes >> 20, info.ram_bytes >> 20));
  }
  if (request.cpus != 0 && request.cpus != info.cpus) {
    throw VmRequestError(
        fmt::format("VM `{}` asks for {} CPUs but the snapshot has {}", name, request.cpus, info.cpus));
  }
  VmRequest sized = request;
  sized.memory_bytes = info.ram_bytes;
  sized.cpus = info.cpus;
  sized.rng_seed.reset();  // a restored guest gets fresh entropy through its agent instead
  BootPlan plan = make_boot_plan(name, profile, sized);
  plan.initial_time_ns.reset();
  const std::uint64_t memory = plan.memory_bytes;
  return LaunchedVm{launch_restore(plan, std::move(nics), std::move(snapshot)), memory, plan.cpus};
}

}  // namespace provium
