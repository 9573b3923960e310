// The --vmm local root file system plan, against a made-up host.
#include "local_rootfs.h"

#include <sys/mount.h>

#include <algorithm>
#include <map>
#include <set>

#include <gtest/gtest.h>

namespace provium {
namespace {

using Type = HostEntry::Type;

// A merged-/usr host (bin, sbin, lib, lib64 are symlinks) without lib32.
HostEntry fake_host(const std::string& path) {
  static const std::map<std::string, HostEntry> host = {
      {"/usr", {Type::directory, ""}},
      {"/bin", {Type::symlink, "usr/bin"}},
      {"/sbin", {Type::symlink, "usr/sbin"}},
      {"/lib", {Type::symlink, "usr/lib"}},
      {"/lib64", {Type::symlink, "usr/lib64"}},
      {"/etc/alternatives", {Type::directory, ""}},
      {"/etc/ld.so.cache", {Type::file, ""}},
      {"/etc/localtime", {Type::symlink, "/usr/share/zoneinfo/Etc/UTC"}},
      {"/etc/os-release", {Type::symlink, "../usr/lib/os-release"}},
      {"/dev/null", {Type::device, ""}},
      {"/dev/zero", {Type::device, ""}},
      {"/dev/urandom", {Type::device, ""}},
      {"/dev/tty", {Type::other, ""}},  // not a device node here: not bound
      // Present on the host, and never to be seen in the sandbox.
      {"/home", {Type::directory, ""}},
      {"/root", {Type::directory, ""}},
      {"/work", {Type::directory, ""}},
  };
  const auto found = host.find(path);
  return found == host.end() ? HostEntry{} : found->second;
}

std::vector<RootStep> plan(std::uint64_t bytes = 256 << 20, bool with_agent = true) {
  return plan_local_root({.hostname = "web-1", .scratch_bytes = bytes, .with_agent = with_agent}, fake_host);
}

const RootStep* find(const std::vector<RootStep>& steps, RootStepKind kind, const std::string& target) {
  const auto found = std::find_if(steps.begin(), steps.end(),
                                  [&](const RootStep& step) { return step.kind == kind && step.target == target; });
  return found == steps.end() ? nullptr : &*found;
}

std::size_t index_of(const std::vector<RootStep>& steps, const RootStep* step) {
  return static_cast<std::size_t>(step - steps.data());
}

TEST(LocalRootfs, TheRootIsAFreshSizedTmpfsMountedFirst) {
  const auto steps = plan(64 << 20);
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps.front().kind, RootStepKind::mount);
  EXPECT_EQ(steps.front().target, "/");
  EXPECT_EQ(steps.front().source, "tmpfs");
  EXPECT_EQ(steps.front().options, "mode=0755,size=67108864");
  EXPECT_TRUE(steps.front().mount_flags & MS_NOSUID);
}

TEST(LocalRootfs, ProgramTreesAreBoundReadOnlyOrMirroredAsSymlinks) {
  const auto steps = plan();
  const RootStep* usr = find(steps, RootStepKind::bind, "/usr");
  ASSERT_NE(usr, nullptr);
  EXPECT_EQ(usr->source, "/usr");
  EXPECT_EQ(usr->bind_attributes & (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV),
            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  const RootStep* usr_dir = find(steps, RootStepKind::directory, "/usr");
  ASSERT_NE(usr_dir, nullptr);
  EXPECT_LT(index_of(steps, usr_dir), index_of(steps, usr));
  const RootStep* bin = find(steps, RootStepKind::symlink, "/bin");
  ASSERT_NE(bin, nullptr);
  EXPECT_EQ(bin->source, "usr/bin");
  EXPECT_EQ(find(steps, RootStepKind::bind, "/bin"), nullptr);
  EXPECT_EQ(find(steps, RootStepKind::symlink, "/lib32"), nullptr);  // not on this host
  EXPECT_EQ(find(steps, RootStepKind::directory, "/lib32"), nullptr);
}

TEST(LocalRootfs, OnlyAllowListedHostPathsAreBound) {
  const std::set<std::string> allowed = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
                                         "/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf",
                                         "/etc/ld.so.conf.d", "/etc/localtime", "/etc/os-release",
                                         "/etc/protocols", "/etc/services", "/dev/null", "/dev/zero",
                                         "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"};
  for (const auto& step : plan()) {
    if (step.kind != RootStepKind::bind) continue;
    EXPECT_TRUE(allowed.count(step.source)) << "binds " << step.source;
    EXPECT_EQ(step.source, step.target);
    EXPECT_NE(step.bind_attributes, 0u) << step.source;
  }
  // The host's home directories, /root and anything else stay out.
  const auto steps = plan();
  EXPECT_EQ(find(steps, RootStepKind::bind, "/home"), nullptr);
  EXPECT_EQ(find(steps, RootStepKind::bind, "/root"), nullptr);
  EXPECT_EQ(find(steps, RootStepKind::bind, "/work"), nullptr);
  ASSERT_NE(find(steps, RootStepKind::directory, "/home"), nullptr);  // empty, in the tmpfs
  EXPECT_EQ(find(steps, RootStepKind::directory, "/root")->mode, 0700u);
}

TEST(LocalRootfs, DevHoldsOnlyBoundNodesThatAreDevicesOnTheHost) {
  const auto steps = plan();
  const RootStep* dev = find(steps, RootStepKind::mount, "/dev");
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->source, "tmpfs");
  for (const char* node : {"/dev/null", "/dev/zero", "/dev/urandom"}) {
    const RootStep* bind = find(steps, RootStepKind::bind, node);
    ASSERT_NE(bind, nullptr) << node;
    EXPECT_FALSE(bind->bind_directory);
    EXPECT_FALSE(bind->bind_attributes & MOUNT_ATTR_NODEV) << "a nodev bind of a device node is useless";
    EXPECT_FALSE(bind->bind_attributes & MOUNT_ATTR_RDONLY) << "/dev/null must stay writable";
    const RootStep* placeholder = find(steps, RootStepKind::file, node);
    ASSERT_NE(placeholder, nullptr);
    EXPECT_LT(index_of(steps, placeholder), index_of(steps, bind));
    EXPECT_LT(index_of(steps, dev), index_of(steps, placeholder));
  }
  EXPECT_EQ(find(steps, RootStepKind::bind, "/dev/tty"), nullptr);
  EXPECT_EQ(find(steps, RootStepKind::bind, "/dev/full"), nullptr);
  EXPECT_NE(find(steps, RootStepKind::mount, "/dev/pts"), nullptr);
  EXPECT_EQ(find(steps, RootStepKind::symlink, "/dev/fd")->source, "/proc/self/fd");
}

TEST(LocalRootfs, PseudoAndScratchFileSystemsAreFresh) {
  const auto steps = plan(128 << 20);
  const RootStep* proc = find(steps, RootStepKind::mount, "/proc");
  ASSERT_NE(proc, nullptr);
  EXPECT_EQ(proc->source, "proc");
  const RootStep* sys = find(steps, RootStepKind::mount, "/sys");
  ASSERT_NE(sys, nullptr);
  EXPECT_EQ(sys->source, "tmpfs");  // no sysfs: it describes the host
  EXPECT_TRUE(sys->mount_flags & MS_RDONLY);
  for (const char* scratch : {"/tmp", "/run", "/dev/shm"}) {
    const RootStep* mount = find(steps, RootStepKind::mount, scratch);
    ASSERT_NE(mount, nullptr) << scratch;
    EXPECT_EQ(mount->source, "tmpfs");
    EXPECT_NE(mount->options.find("size=134217728"), std::string::npos) << mount->options;
  }
  EXPECT_EQ(find(steps, RootStepKind::mount, "/tmp")->options, "mode=1777,size=134217728");
  // No size: the kernel's default.
  EXPECT_EQ(find(plan(0), RootStepKind::mount, "/tmp")->options, "mode=1777");
}

TEST(LocalRootfs, EtcIsSyntheticApartFromHarmlessReadOnlyEntries) {
  const auto steps = plan();
  EXPECT_EQ(find(steps, RootStepKind::bind, "/etc"), nullptr);
  EXPECT_EQ(find(steps, RootStepKind::file, "/etc/passwd")->content, local_passwd());
  EXPECT_EQ(find(steps, RootStepKind::file, "/etc/group")->content, local_group());
  EXPECT_EQ(find(steps, RootStepKind::file, "/etc/hostname")->content, "web-1\n");
  EXPECT_NE(find(steps, RootStepKind::file, "/etc/hosts")->content.find("127.0.1.1\tweb-1\n"), std::string::npos);
  EXPECT_NE(find(steps, RootStepKind::file, "/etc/resolv.conf"), nullptr);
  EXPECT_NE(local_passwd().find("root:x:0:0:"), std::string::npos);
  EXPECT_EQ(find(steps, RootStepKind::file, "/etc/shadow"), nullptr);
  EXPECT_NE(find(steps, RootStepKind::bind, "/etc/alternatives"), nullptr);
  EXPECT_FALSE(find(steps, RootStepKind::bind, "/etc/ld.so.cache")->bind_directory);
  EXPECT_EQ(find(steps, RootStepKind::symlink, "/etc/localtime")->source, "/usr/share/zoneinfo/Etc/UTC");
  EXPECT_EQ(find(steps, RootStepKind::bind, "/etc/services"), nullptr);  // not on this host
}

TEST(LocalRootfs, TheAgentIsCopiedIntoRunNotBound) {
  const auto steps = plan();
  const RootStep* copy = find(steps, RootStepKind::copy_fd, kLocalAgentPath);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->source_fd, kLocalAgentBinaryFd);
  EXPECT_EQ(copy->mode, 0755u);
  EXPECT_LT(index_of(steps, find(steps, RootStepKind::mount, "/run")), index_of(steps, copy));
  const auto without = plan(256 << 20, false);
  EXPECT_EQ(find(without, RootStepKind::copy_fd, kLocalAgentPath), nullptr);
}

TEST(LocalRootfs, EveryStepSaysWhatItDoes) {
  for (const auto& step : plan()) EXPECT_FALSE(step.what.empty()) << step.target;
}

TEST(LocalRootfs, GuestFilesComeAfterTheirParentDirectories) {
  const auto steps = plan_guest_files({{"/etc/app/conf.d/x.conf", "a=1"}, {"/y", ""}});
  ASSERT_EQ(steps.size(), 5u);
  EXPECT_EQ(steps[0].target, "/etc");
  EXPECT_EQ(steps[1].target, "/etc/app");
  EXPECT_EQ(steps[2].target, "/etc/app/conf.d");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(steps[i].kind, RootStepKind::directory);
  EXPECT_EQ(steps[3].kind, RootStepKind::file);
  EXPECT_EQ(steps[3].content, "a=1");
  EXPECT_EQ(steps[3].mode, 0644u);
  EXPECT_NE(steps[3].what.find("/etc/app/conf.d/x.conf"), std::string::npos);
  EXPECT_EQ(steps[4].target, "/y");
}

}  // namespace
}  // namespace provium
