// Two real guests on the user-datapath switch: QEMU's dgram netdev on one end
// of each port, the guests' own ping across it, partitions and latency as the
// guests see them.
#include "test_guest.h"
#include "user_switch.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>

namespace provium::net {
namespace {

using agent_test::TestGuest;
using agent_test::TestGuestOptions;
namespace wire = provium::wire::agent;
using namespace std::chrono_literals;

constexpr int kNicFdInQemu = 4;

TestGuestOptions nic_options(const OwnedFd& guest_end, int last_octet) {
  return TestGuestOptions{
      .extra_args = {"-netdev", "dgram,id=n0,local.type=fd,local.str=" + std::to_string(kNicFdInQemu), "-device",
                     "virtio-net-device,netdev=n0,mac=52:54:00:00:00:0" + std::to_string(last_octet)},
      .extra_fds = {{kNicFdInQemu, guest_end.get()}},
  };
}

struct PingResult {
  int exit_code = -1;
  double average_ms = 0;
  std::string output;
};

PingResult ping(TestGuest& guest, const std::string& address, int count) {
  auto run = guest.client().run({.argv = {"ping", "-c", std::to_string(count), "-W", "1", address}}, 60s);
  PingResult result{.exit_code = run->getRun().getExitCode(), .output = run.stdout_text() + run.stderr_text()};
  std::smatch match;  // busybox: "round-trip min/avg/max = 0.512/0.734/1.012 ms"
  if (std::regex_search(result.output, match, std::regex(R"(= [0-9.]+/([0-9.]+)/)"))) {
    result.average_ms = std::atof(match[1].str().c_str());
  }
  return result;
}

TEST(UserSwitchGuests, TwoGuestsPingAcrossPartitionAndLatency) {
  if (auto why = TestGuest::unavailable()) GTEST_SKIP() << *why;
  UserSwitch lan("lan", 1);
  NewPort port_a = lan.add_port();
  NewPort port_b = lan.add_port();
  TestGuest a("a", nic_options(port_a.guest_end, 1));
  TestGuest b("b", nic_options(port_b.guest_end, 2));
  port_a.guest_end.reset();  // QEMU holds its own copies now
  port_b.guest_end.reset();
  // Addresses and names through the agent, as an attach does.
  const std::vector<std::pair<TestGuest*, std::string>> members = {{&a, "10.0.0.1"}, {&b, "10.0.0.2"}};
  for (std::size_t i = 0; i < members.size(); ++i) {
    TestGuest& guest = *members[i].first;
    const std::uint8_t mac[6] = {0x52, 0x54, 0x00, 0x00, 0x00, static_cast<std::uint8_t>(i + 1)};
    auto configured = guest.client().call([&](wire::Request::Builder r) {
      auto nic = r.initConfigureNic();
      nic.setMac(capnp::Data::Reader(mac, sizeof mac));
      nic.initAddresses(1).set(0, members[i].second + "/24");
      nic.setUp(true);
    });
    ASSERT_TRUE(configured->isDone()) << guest.name() << ": " << configured->getError().getMessage().cStr();
    auto named = guest.client().call([&](wire::Request::Builder r) {
      auto entries = r.initSetHosts().initEntries(static_cast<unsigned>(members.size()));
      for (std::size_t j = 0; j < members.size(); ++j) {
        entries[static_cast<unsigned>(j)].setAddress(members[j].second);
        entries[static_cast<unsigned>(j)].initNames(1).set(0, members[j].first->name() + ".lan");
      }
    });
    ASSERT_TRUE(named->isDone()) << guest.name() << ": " << named->getError().getMessage().cStr();
  }

  const PingResult by_name = ping(a, "b.lan", 1);
  ASSERT_EQ(by_name.exit_code, 0) << "a resolves b.lan and reaches it:\n" << by_name.output;
  const PingResult plain = ping(a, "10.0.0.2", 3);
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_GT(lan.counters(port_a.id).rx_frames, 0u);
  EXPECT_GT(lan.counters(port_b.id).tx_frames, 0u);

  lan.edit_policy([&](LinkPolicy& policy) { policy.block(port_a.id, port_b.id), policy.block(port_b.id, port_a.id); });
  const PingResult cut = ping(a, "10.0.0.2", 2);
  EXPECT_NE(cut.exit_code, 0) << "a partitioned pair must not ping:\n" << cut.output;

  // One-way: a -> b cut, b -> a open. Echo requests from b reach a, but a's replies are dropped.
  lan.edit_policy([&](LinkPolicy& policy) { policy.unblock(port_b.id, port_a.id); });
  EXPECT_NE(ping(b, "10.0.0.1", 2).exit_code, 0);
  const auto before = lan.counters(port_a.id).tx_frames;
  ping(b, "10.0.0.1", 2);
  EXPECT_GT(lan.counters(port_a.id).tx_frames, before) << "b's requests still reach a";

  lan.edit_policy([&](LinkPolicy& policy) {
    policy.unblock_all();
    policy.pair(port_a.id, port_b.id).latency = 100ms;
  });
  const PingResult slow = ping(a, "10.0.0.2", 3);
  ASSERT_EQ(slow.exit_code, 0) << slow.output;
  EXPECT_GE(slow.average_ms, 100.0) << "the round trip includes the 100 ms one way:\n" << slow.output;
}

}  // namespace
}  // namespace provium::net
