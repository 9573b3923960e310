// Starts one QEMU process: makes the socketpairs for console, agent and QMP
// and a pipe for QEMU's own stderr, maps them (and the guest image fds) into
// the child at fixed numbers, and drops privileges before exec.
#pragma once

#include <optional>
#include <string>

#include <kj/io.h>

#include "accel_choice.h"
#include "boot_plan.h"
#include "guest_image.h"
#include "qemu_privileges.h"
#include "file_network.h"
#include "subprocess.h"

namespace provium {

struct QemuSpawnRequest {
  std::string qemu_binary;
  Accel accel = Accel::tcg;
  PrivilegeDrop privileges;
  const BootPlan* plan = nullptr;
  GuestImage image;
  std::optional<std::uint32_t> vsock_cid;  // set only where /dev/vhost-vsock exists
  kj::AutoCloseFd rng_source;              // a seeded virtio-rng's pipe (read end), or none
  // The VM's NIC slots (empty: no network devices) and their MAC addresses.
  std::vector<net::GuestNicBackend> nics;
  std::vector<std::string> nic_macs;
  // Guest RAM (see QemuInvocation): the VM's memfd, or a snapshot file.
  int ram_fd = -1;
  bool ram_shared = true;
  // A restore: the snapshot's device state, read from this fd's offset.
  int incoming_fd = -1;
};

struct SpawnedQemu {
  Subprocess process;
  kj::AutoCloseFd console;      // our end of the serial console
  kj::AutoCloseFd agent;        // our end of the agent's virtio-serial port
  kj::AutoCloseFd qmp;          // our end of the QMP monitor
  kj::AutoCloseFd qemu_stderr;  // read end of QEMU's stdout+stderr
  std::optional<std::uint32_t> vsock_cid;
  // The fd number QMP migrate-incoming names ("fd:N"), when restoring.
  std::optional<int> incoming_fd;
};

// Throws std::runtime_error with the reason if QEMU cannot be started.
SpawnedQemu spawn_qemu(QemuSpawnRequest request);

}  // namespace provium
