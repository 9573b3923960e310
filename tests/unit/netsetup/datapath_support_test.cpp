// Capability detection: what this host can do, reported as data; and what
// an unprivileged process is told.
#include "datapath_support.h"

#include <sys/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "kernel_fixture.h"
#include "link.h"
#include "net_namespace.h"
#include "netem_support.h"
#include "qdisc_info.h"

namespace provium::netsetup {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(DatapathSupport, EveryFeatureIsReportedByName) {
  const DatapathSupport support = detect_datapath_support();
  for (const auto name : {feature::cap_net_admin, feature::cap_sys_admin, feature::cap_net_raw,
                          feature::network_namespace, feature::bridge, feature::tap, feature::veth,
                          feature::nftables_bridge, feature::tbf, feature::netem, feature::packet_capture}) {
    int found = 0;
    for (const auto& check : support.checks) {
      if (check.name != name) continue;
      ++found;
      EXPECT_EQ(check.available, check.detail.empty()) << name << ": " << check.detail;
    }
    EXPECT_EQ(found, 1) << name;
  }
}

// As root on a host made for it, everything but netem has to work; netem is
// either there or reported missing by name.
TEST(DatapathSupport, AllButNetemWorkWhenPrivileged) {
  PROVIUM_SKIP_WITHOUT_KERNEL_DATAPATH();
  const DatapathSupport support = detect_datapath_support();
  EXPECT_TRUE(support.kernel_datapath_available());
  EXPECT_EQ(support.unavailable_reason(), std::nullopt);
  for (const auto name : {feature::veth, feature::nftables_bridge, feature::tbf}) {
    EXPECT_EQ(support.feature_unavailable_reason(name), std::nullopt);
  }
  if (auto why = support.feature_unavailable_reason(feature::netem)) {
    EXPECT_TRUE(contains(*why, "netem qdisc unavailable: kernel feature missing: sch_netem")) << *why;
  }
}

TEST(DatapathSupport, TheNetemProbeLeavesNoQdiscBehind) {
  PROVIUM_SKIP_WITHOUT_KERNEL_DATAPATH();
  const NetNamespace ns = NetNamespace::create();
  const auto reason = netem_missing_reason(ns);
  if (reason) {
    EXPECT_TRUE(contains(*reason, "sch_netem")) << *reason;
  }
  const auto left = root_qdisc(ns.route(), "lo");
  EXPECT_TRUE(!left.has_value() || left->kind != "netem");
}

// In a child that drops CAP_NET_ADMIN and CAP_SYS_ADMIN, detection says the
// kernel datapath is unavailable and why, in one line.
TEST(DatapathSupport, WithoutCapabilitiesTheReasonNamesThem) {
  PROVIUM_SKIP_WITHOUT_KERNEL_DATAPATH();
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(report[0]);
    cap_t caps = cap_get_proc();
    const cap_value_t dropped[] = {CAP_NET_ADMIN, CAP_SYS_ADMIN};
    if (caps == nullptr || cap_set_flag(caps, CAP_EFFECTIVE, 2, dropped, CAP_CLEAR) != 0 || cap_set_proc(caps) != 0) {
      _exit(2);
    }
    const DatapathSupport support = detect_datapath_support();
    const std::string line = support.kernel_datapath_available() ? "available" : support.unavailable_reason().value();
    if (::write(report[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(3);
    _exit(0);
  }
  ::close(report[1]);
  std::string line;
  char buffer[512];
  ssize_t length;
  while ((length = ::read(report[0], buffer, sizeof buffer)) > 0) line.append(buffer, static_cast<std::size_t>(length));
  ::close(report[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  EXPECT_TRUE(line.starts_with("kernel datapath unavailable: CAP_NET_ADMIN: not in this process's effective set"))
      << line;
  EXPECT_TRUE(contains(line, "CAP_SYS_ADMIN: not in this process's effective set")) << line;
  EXPECT_TRUE(contains(line, "network namespace: unshare(CLONE_NEWNET): Operation not permitted")) << line;
  EXPECT_TRUE(contains(line, "bridge: not tried: no network namespace")) << line;
}

}  // namespace
}  // namespace provium::netsetup
