// The pieces that decide what a guest boots with: cmdline edits, the boot plan,
// the runner's (checked) VM options, and the cpio for injected files.
#include <capnp/message.h>
#include <gtest/gtest.h>

#include "boot_plan.h"
#include "cpio_writer.h"
#include "kernel_cmdline.h"
#include "vm_request.h"

namespace provium {
namespace {

TEST(KernelCmdline, AgentRdinit) {
  EXPECT_EQ(with_agent_rdinit("quiet"), "quiet rdinit=/sbin/provium-agent");
  EXPECT_EQ(with_agent_rdinit("quiet rdinit=/sbin/provium-agent"), "quiet rdinit=/sbin/provium-agent");
  EXPECT_THROW(with_agent_rdinit("quiet rdinit=/init"), std::invalid_argument);
}

TEST(KernelCmdline, SerialConsole) {
  EXPECT_EQ(with_serial_console("quiet  "), "quiet console=ttyS0");
  EXPECT_EQ(with_serial_console("console=hvc0 quiet"), "console=hvc0 quiet console=ttyS0");
  EXPECT_EQ(with_serial_console("console=ttyS0,115200 quiet"), "console=ttyS0,115200 quiet");
}

struct Options {
  capnp::MallocMessageBuilder message;
  wire::runner::VmOptions::Builder builder = message.initRoot<wire::runner::VmOptions>();
  VmRequest read(unsigned cpus = 4) { return read_vm_request(builder.asReader(), cpus); }
};

std::string error_of(Options& options) {
  try {
    options.read();
  } catch (const VmRequestError& error) {
    return error.what();
  }
  return "";
}

TEST(VmRequest, AcceptsSaneOptions) {
  Options options;
  options.builder.setMemoryBytes(512ull << 20);
  options.builder.setCpus(2);
  options.builder.setKernelCmdline("quiet");
  options.builder.setHasInitialTime(true);
  options.builder.setInitialTimeNs(1'700'000'000'000'000'000);
  options.builder.setHasRngSeed(true);
  options.builder.setRngSeed(0xffff'ffff'ffff'ffffull);
  auto files = options.builder.initFiles(1);
  files[0].setPath("/etc/hostname");
  files[0].setContent(capnp::Data::Reader(reinterpret_cast<const kj::byte*>("v"), 1));
  const VmRequest request = options.read();
  EXPECT_EQ(request.memory_bytes, 512ull << 20);
  EXPECT_EQ(request.cpus, 2u);
  EXPECT_EQ(request.cmdline, "quiet");
  EXPECT_EQ(request.initial_time_ns, 1'700'000'000'000'000'000);
  EXPECT_EQ(request.rng_seed, 0xffff'ffff'ffff'ffffull);
  EXPECT_FALSE(Options().read().rng_seed) << "no seed unless asked";
  ASSERT_EQ(request.files.size(), 1u);
  EXPECT_EQ(request.files[0].content, "v");
}

TEST(VmRequest, RefusesOutOfRangeValues) {
  Options memory;
  memory.builder.setMemoryBytes(1 << 20);
  EXPECT_NE(error_of(memory).find("memory"), std::string::npos);
  Options huge;
  huge.builder.setMemoryBytes(17ull << 30);
  EXPECT_NE(error_of(huge).find("64M..16G"), std::string::npos);
  Options cpus;
  cpus.builder.setCpus(5);
  EXPECT_NE(error_of(cpus).find("more than this host's 4 CPUs"), std::string::npos);
  Options cmdline;
  cmdline.builder.setKernelCmdline(std::string(3000, 'x'));
  EXPECT_NE(error_of(cmdline).find("kernel_cmdline"), std::string::npos);
  Options newline;
  newline.builder.setKernelCmdline("quiet\ninit=/bin/sh");
  EXPECT_NE(error_of(newline).find("printable"), std::string::npos);
  Options time;
  time.builder.setHasInitialTime(true);
  time.builder.setInitialTimeNs(-1);
  EXPECT_NE(error_of(time).find("initial_time"), std::string::npos);
}

TEST(VmRequest, RefusesBadFiles) {
  for (const char* path : {"relative", "/a/../b", "/a//b", "/a/./b", "/", "/dir/"}) {
    Options options;
    options.builder.initFiles(1)[0].setPath(path);
    EXPECT_NE(error_of(options).find("files"), std::string::npos) << path;
  }
  Options many;
  many.builder.initFiles(kMaxGuestFiles + 1);
  EXPECT_NE(error_of(many).find("limit"), std::string::npos);
  Options big;
  auto file = big.builder.initFiles(1)[0];
  file.setPath("/big");
  file.initContent(kMaxGuestFileBytes + 1);
  EXPECT_NE(error_of(big).find("limit"), std::string::npos);
}

TEST(VmRequest, NamesAndMerging) {
  EXPECT_TRUE(valid_vm_name("web-1.a_b"));
  EXPECT_FALSE(valid_vm_name(""));
  EXPECT_FALSE(valid_vm_name("a b"));
  EXPECT_FALSE(valid_vm_name("../x"));
  EXPECT_FALSE(valid_vm_name(std::string(65, 'a')));
  VmRequest created{.memory_bytes = 1 << 30, .cpus = 2, .cmdline = "a", .files = {{"/x", "1"}}};
  created.rng_seed = 1;
  VmRequest boot{.cpus = 1, .files = {{"/y", "2"}}};
  EXPECT_EQ(merge_vm_requests(created, boot).rng_seed, 1u) << "kept unless the boot gives one";
  boot.rng_seed = 2;
  const VmRequest merged = merge_vm_requests(created, boot);
  EXPECT_EQ(merged.rng_seed, 2u);
  EXPECT_EQ(merged.memory_bytes, 1u << 30);
  EXPECT_EQ(merged.cpus, 1u);
  EXPECT_EQ(merged.cmdline, "a");
  EXPECT_EQ(merged.files.size(), 2u);
}

TEST(BootPlan, AppliesProfileDefaultsAndAgentInjection) {
  Profile profile{.name = "p", .kernel = "/k", .initrd = "/i", .cmdline = "quiet", .memory_bytes = 256ull << 20};
  BootPlan plan = make_boot_plan("vm", profile, VmRequest{});
  EXPECT_EQ(plan.cmdline, "quiet rdinit=/sbin/provium-agent console=ttyS0");
  EXPECT_EQ(plan.memory_bytes, 256ull << 20);
  EXPECT_EQ(plan.cpus, 1u);
  EXPECT_TRUE(plan.inject_agent);

  plan = make_boot_plan("vm", profile, VmRequest{.memory_bytes = 1ull << 30, .cmdline = "debug"});
  EXPECT_EQ(plan.cmdline, "debug rdinit=/sbin/provium-agent console=ttyS0");
  EXPECT_EQ(plan.memory_bytes, 1ull << 30);

  profile.cmdline = "rdinit=/init";
  EXPECT_THROW(make_boot_plan("vm", profile, VmRequest{}), VmRequestError);
  profile.inject_agent = false;
  EXPECT_EQ(make_boot_plan("vm", profile, VmRequest{}).cmdline, "rdinit=/init console=ttyS0");
  profile.unavailable = "no guest";
  EXPECT_THROW(make_boot_plan("vm", profile, VmRequest{}), VmRequestError);
}

TEST(BootPlan, SeedAndInitialTimeReachTheCmdline) {
  const Profile profile{.name = "p", .kernel = "/k", .initrd = "/i", .cmdline = "quiet", .memory_bytes = 256ull << 20};
  VmRequest request;
  request.rng_seed = 7;
  request.initial_time_ns = 1'700'000'000'250'000'000;
  const BootPlan plan = make_boot_plan("vm", profile, request);
  EXPECT_EQ(plan.cmdline,
            "quiet rdinit=/sbin/provium-agent console=ttyS0 provium.rng_preamble=8192 "
            "provium.initial_time_ns=1700000000250000000");
  EXPECT_EQ(plan.rng_seed, 7u);
  EXPECT_EQ(make_boot_plan("vm", profile, VmRequest{}).cmdline.find("provium."), std::string::npos);
}

TEST(CpioWriter, NewcWithParentsAndTrailer) {
  CpioWriter writer;
  writer.add_file("/etc/app/conf", "key=value\n");
  const std::string archive = writer.finish();
  EXPECT_EQ(archive.size() % 4, 0u);
  EXPECT_EQ(archive.rfind("070701", 0), 0u);
  EXPECT_NE(archive.find(std::string("etc\0", 4)), std::string::npos);
  EXPECT_NE(archive.find(std::string("etc/app\0", 8)), std::string::npos);
  EXPECT_NE(archive.find(std::string("etc/app/conf\0", 13)), std::string::npos);
  EXPECT_NE(archive.find("key=value\n"), std::string::npos);
  EXPECT_NE(archive.find("TRAILER!!!"), std::string::npos);
  // The file entry: mode 0100644 (0x81A4), size 10 (0xA).
  EXPECT_NE(archive.find("000081A4000000000000000000000001000000000000000A"), std::string::npos);
}

}  // namespace
}  // namespace provium
