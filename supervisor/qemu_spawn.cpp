#include "qemu_spawn.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "qemu_argv.h"

namespace provium {
namespace {

// Where each inherited fd lands in QEMU.
enum ChildFd : int { kConsole = 3, kAgent = 4, kQmp = 5, kKernel = 6, kInitrd = 7, kVhostVsock = 8, kRngSource = 9, kFirstNic = 10, kRam = 20, kIncoming = 21 };

struct FdPair {
  kj::AutoCloseFd ours;
  kj::AutoCloseFd theirs;
};

FdPair make_socketpair(const char* what) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    throw std::runtime_error(fmt::format("socketpair for the {}: {}", what, std::strerror(errno)));
  }
  return {kj::AutoCloseFd(fds[0]), kj::AutoCloseFd(fds[1])};
}

kj::AutoCloseFd open_or_throw(const char* path, int flags) {
  kj::AutoCloseFd fd(::open(path, flags | O_CLOEXEC));
  if (fd.get() < 0) throw std::runtime_error(fmt::format("{}: {}", path, std::strerror(errno)));
  return fd;
}

}  // namespace

SpawnedQemu spawn_qemu(QemuSpawnRequest request) {
  const BootPlan& plan = *request.plan;
  FdPair console = make_socketpair("console");
  FdPair agent = make_socketpair("agent channel");
  FdPair qmp = make_socketpair("QMP monitor");
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
  kj::AutoCloseFd stderr_read(pipe_fds[0]);
  kj::AutoCloseFd stderr_write(pipe_fds[1]);
  kj::AutoCloseFd dev_null = open_or_throw("/dev/null", O_RDONLY);

  QemuInvocation invocation{
      .binary = request.qemu_binary,
      .accel = request.accel,
      .memory_bytes = plan.memory_bytes,
      .ram_fd = kRam,
      .ram_shared = request.ram_shared,
      .incoming = request.incoming_fd >= 0,
      .cpus = plan.cpus,
      .kernel_path = fmt::format("/dev/fd/{}", int(kKernel)),
      .initrd_path = fmt::format("/dev/fd/{}", int(kInitrd)),
      .cmdline = plan.cmdline,
      .console_fd = kConsole,
      .agent_fd = kAgent,
      .qmp_fd = kQmp,
  };
  SpawnSpec spec;
  spec.fds = {{0, dev_null.get()},          {1, stderr_write.get()},        {2, stderr_write.get()},
              {kConsole, console.theirs.get()}, {kAgent, agent.theirs.get()}, {kQmp, qmp.theirs.get()},
              {kKernel, request.image.kernel.get()}, {kInitrd, request.image.initrd.get()}};
  if (request.ram_fd < 0) throw std::runtime_error("no guest RAM was given");
  spec.fds.push_back({kRam, request.ram_fd});
  if (request.incoming_fd >= 0) spec.fds.push_back({kIncoming, request.incoming_fd});
  kj::AutoCloseFd vhost;
  if (request.vsock_cid) {
    vhost = open_or_throw("/dev/vhost-vsock", O_RDWR);
    invocation.vsock = VsockDevice{*request.vsock_cid, kVhostVsock};
    spec.fds.push_back({kVhostVsock, vhost.get()});
  }
  if (request.rng_source.get() >= 0) {
    invocation.rng_source_fd = int(kRngSource);
    spec.fds.push_back({kRngSource, request.rng_source.get()});
  }
  for (std::size_t i = 0; i < request.nics.size(); ++i) {
    const int child_fd = kFirstNic + static_cast<int>(i);
    const bool tap = request.nics[i].kind == net::GuestNicBackend::Kind::tap;
    invocation.nics.push_back(NicSlotArgs{.kind = tap ? NicSlotArgs::Kind::tap : NicSlotArgs::Kind::dgram_socket,
                                          .fd = child_fd,
                                          .mac = request.nic_macs.at(i)});
    spec.fds.push_back({child_fd, request.nics[i].fd.get()});
  }
  if (plan.initial_time_ns) invocation.rtc_base = rtc_base_from_ns(*plan.initial_time_ns);
  spec.argv = build_qemu_argv(invocation);
  spec.before_exec = privilege_drop_hook(request.privileges);

  return SpawnedQemu{Subprocess::spawn(spec), kj::mv(console.ours), kj::mv(agent.ours), kj::mv(qmp.ours),
                     kj::mv(stderr_read), request.vsock_cid,
                     request.incoming_fd >= 0 ? std::optional<int>(kIncoming) : std::nullopt};
}

}  // namespace provium
