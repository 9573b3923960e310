#include "qemu_argv.h"

#include <ctime>

#include <fmt/format.h>

namespace provium {
namespace {

constexpr int kRngFdSet = 1;

}  // namespace

std::vector<std::string> build_qemu_argv(const QemuInvocation& in) {
  const std::uint64_t mebibytes = (in.memory_bytes + (1 << 20) - 1) >> 20;
  std::vector<std::string> argv = {
      in.binary,
      "-M", "microvm,x-option-roms=off,isa-serial=on,rtc=on,memory-backend=ram",
      "-object", fmt::format("memory-backend-file,id=ram,size={}M,mem-path=/dev/fd/{},share={}", mebibytes, in.ram_fd,
                             in.ram_shared ? "on" : "off"),
      "-accel", to_string(in.accel),
      "-cpu", in.accel == Accel::kvm ? "host" : "qemu64",
      "-m", fmt::format("{}M", mebibytes),
      "-smp", std::to_string(in.cpus),
      "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
      "-kernel", in.kernel_path,
      "-initrd", in.initrd_path,
      "-append", in.cmdline,
      "-chardev", fmt::format("socket,id=console,fd={}", in.console_fd),
      "-serial", "chardev:console",
      "-device", "virtio-serial-device",
      "-chardev", fmt::format("socket,id=agent,fd={}", in.agent_fd),
      "-device", "virtserialport,chardev=agent,name=agent",
      "-device", in.rng_source_fd ? "virtio-rng-device,rng=rng" : "virtio-rng-device",
      "-chardev", fmt::format("socket,id=qmp,fd={}", in.qmp_fd),
      "-mon", "chardev=qmp,mode=control",
      "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
  };
  if (in.rng_source_fd) {
    // QEMU opens its rng file by name; an fd set hands it our inherited pipe
    // without any open() of a path (which `nobody` could not do on our pipe).
    argv.insert(argv.end(), {"-add-fd", fmt::format("fd={},set={}", *in.rng_source_fd, kRngFdSet), "-object",
                             fmt::format("rng-random,id=rng,filename=/dev/fdset/{}", kRngFdSet)});
  }
  if (in.vsock) {
    argv.insert(argv.end(), {"-device", fmt::format("vhost-vsock-device,guest-cid={},vhostfd={}", in.vsock->guest_cid,
                                                    in.vsock->vhost_fd)});
  }
  for (std::size_t i = 0; i < in.nics.size(); ++i) {
    const NicSlotArgs& nic = in.nics[i];
    argv.insert(argv.end(),
                {"-netdev",
                 nic.kind == NicSlotArgs::Kind::tap ? fmt::format("tap,id=nic{},fd={}", i, nic.fd)
                                                    : fmt::format("dgram,id=nic{},local.type=fd,local.str={}", i, nic.fd),
                 "-device", fmt::format("virtio-net-device,netdev=nic{},mac={}", i, nic.mac)});
  }
  if (in.incoming) argv.insert(argv.end(), {"-incoming", "defer"});
  if (in.rtc_base) argv.insert(argv.end(), {"-rtc", fmt::format("base={}", *in.rtc_base)});
  return argv;
}

std::string rtc_base_from_ns(std::int64_t ns) {
  const std::time_t seconds = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  return text;
}

}  // namespace provium
