// The QEMU command line: the microvm recipe measured in host-facts.md. Every
// channel (console, agent, QMP) is an inherited socketpair fd, so no socket
// file ever exists; the kernel and initrd are inherited fds too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "accel_choice.h"

namespace provium {

struct VsockDevice {
  std::uint32_t guest_cid = 0;
  int vhost_fd = -1;  // /dev/vhost-vsock, opened by us
};

// One guest NIC slot: a virtio-net device on an inherited netdev fd.
struct NicSlotArgs {
  enum class Kind { dgram_socket, tap };
  Kind kind = Kind::dgram_socket;
  int fd = -1;      // the fd number inside QEMU
  std::string mac;  // "52:54:00:00:01:00"
};

struct QemuInvocation {
  std::string binary;  // absolute path of qemu-system-x86_64
  Accel accel = Accel::tcg;
  std::uint64_t memory_bytes = 0;
  // Guest RAM is this inherited fd (guest_ram.h): shared, the VM's own memfd;
  // not shared, a snapshot file mapped copy-on-write.
  int ram_fd = -1;
  bool ram_shared = true;
  // Start waiting for a migration stream (a snapshot's device state) that
  // QMP migrate-incoming names.
  bool incoming = false;
  std::uint32_t cpus = 1;
  std::string kernel_path;  // usually /dev/fd/N
  std::string initrd_path;
  std::string cmdline;
  int console_fd = -1;
  int agent_fd = -1;
  int qmp_fd = -1;
  std::optional<VsockDevice> vsock;
  std::optional<std::string> rtc_base;  // "2023-11-14T22:13:20", UTC
  // The read end of a pipe the supervisor fills (a seeded virtio-rng); unset:
  // QEMU's built-in backend, fed from the host's getrandom().
  std::optional<int> rng_source_fd;
  // Slot i becomes netdev `nic<i>` (docs/networking.md).
  std::vector<NicSlotArgs> nics;
};

std::vector<std::string> build_qemu_argv(const QemuInvocation& invocation);

// QEMU's -rtc base= form of a time in nanoseconds since the epoch (UTC; whole seconds).
std::string rtc_base_from_ns(std::int64_t ns);

}  // namespace provium
