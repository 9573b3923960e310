#include "qemu_argv.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace provium {
namespace {

QemuInvocation tcg_invocation() {
  return QemuInvocation{.binary = "/usr/bin/qemu-system-x86_64",
                        .accel = Accel::tcg,
                        .memory_bytes = 256ull << 20,
                        .ram_fd = 20,
                        .cpus = 1,
                        .kernel_path = "/dev/fd/6",
                        .initrd_path = "/dev/fd/7",
                        .cmdline = "console=ttyS0 quiet",
                        .console_fd = 3,
                        .agent_fd = 4,
                        .qmp_fd = 5};
}

TEST(QemuArgv, MicrovmRecipeUnderTcg) {
  const std::vector<std::string> expected = {
      "/usr/bin/qemu-system-x86_64",
      "-M", "microvm,x-option-roms=off,isa-serial=on,rtc=on,memory-backend=ram",
      "-object", "memory-backend-file,id=ram,size=256M,mem-path=/dev/fd/20,share=on",
      "-accel", "tcg", "-cpu", "qemu64", "-m", "256M", "-smp", "1",
      "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
      "-kernel", "/dev/fd/6", "-initrd", "/dev/fd/7", "-append", "console=ttyS0 quiet",
      "-chardev", "socket,id=console,fd=3", "-serial", "chardev:console",
      "-device", "virtio-serial-device",
      "-chardev", "socket,id=agent,fd=4", "-device", "virtserialport,chardev=agent,name=agent",
      "-device", "virtio-rng-device",
      "-chardev", "socket,id=qmp,fd=5", "-mon", "chardev=qmp,mode=control",
      "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"};
  EXPECT_EQ(build_qemu_argv(tcg_invocation()), expected);
}

TEST(QemuArgv, KvmUsesTheHostCpu) {
  QemuInvocation invocation = tcg_invocation();
  invocation.accel = Accel::kvm;
  invocation.cpus = 4;
  invocation.memory_bytes = (1ull << 30) + 1;  // rounded up to whole MiB
  const auto argv = build_qemu_argv(invocation);
  auto after = [&](const std::string& flag) { return *(std::find(argv.begin(), argv.end(), flag) + 1); };
  EXPECT_EQ(after("-accel"), "kvm");
  EXPECT_EQ(after("-cpu"), "host");
  EXPECT_EQ(after("-smp"), "4");
  EXPECT_EQ(after("-m"), "1025M");
}

TEST(QemuArgv, VsockOnlyWhenGivenAndRtcBase) {
  const auto plain = build_qemu_argv(tcg_invocation());
  EXPECT_EQ(std::count(plain.begin(), plain.end(), "-rtc"), 0);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), "-device"), 3) << "no vsock device unless asked";
  QemuInvocation invocation = tcg_invocation();
  invocation.vsock = VsockDevice{.guest_cid = 42, .vhost_fd = 8};
  invocation.rtc_base = rtc_base_from_ns(1700000000LL * 1'000'000'000LL + 500'000'000);
  const auto argv = build_qemu_argv(invocation);
  EXPECT_NE(std::find(argv.begin(), argv.end(), "vhost-vsock-device,guest-cid=42,vhostfd=8"), argv.end());
  EXPECT_NE(std::find(argv.begin(), argv.end(), "base=2023-11-14T22:13:20"), argv.end());
}

TEST(QemuArgv, SeededRngReadsTheInheritedPipeThroughAnFdSet) {
  QemuInvocation invocation = tcg_invocation();
  invocation.rng_source_fd = 9;
  const auto argv = build_qemu_argv(invocation);
  auto after = [&](const std::string& flag) { return *(std::find(argv.begin(), argv.end(), flag) + 1); };
  EXPECT_EQ(after("-add-fd"), "fd=9,set=1");
  EXPECT_NE(std::find(argv.begin(), argv.end(), "rng-random,id=rng,filename=/dev/fdset/1"), argv.end());
  EXPECT_NE(std::find(argv.begin(), argv.end(), "virtio-rng-device,rng=rng"), argv.end());
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "virtio-rng-device"), argv.end()) << "one rng device only";
}

TEST(QemuArgv, ARestoreMapsTheSnapshotPrivatelyAndWaitsForItsState) {
  QemuInvocation invocation = tcg_invocation();
  invocation.ram_shared = false;
  invocation.incoming = true;
  const auto argv = build_qemu_argv(invocation);
  auto after = [&](const std::string& flag) { return *(std::find(argv.begin(), argv.end(), flag) + 1); };
  EXPECT_EQ(after("-object"), "memory-backend-file,id=ram,size=256M,mem-path=/dev/fd/20,share=off");
  EXPECT_EQ(after("-incoming"), "defer");
  const auto cold = build_qemu_argv(tcg_invocation());
  EXPECT_EQ(std::find(cold.begin(), cold.end(), "-incoming"), cold.end());
}

}  // namespace
}  // namespace provium
