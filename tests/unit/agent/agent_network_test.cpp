// configureNic and setHosts. The agent runs in a network namespace of its own
// (so the host's interfaces are never touched) with a veth interface made for
// the test, and a hosts file in a scratch directory.
#include "agent_protocol_fixture.h"
#include "hosts_file.h"

#include <gtest/gtest.h>

#include <sched.h>

#include <fstream>
#include <sstream>

namespace {

using namespace provium::agent_test;
namespace wire = provium::wire::agent;
using provium::agent::HostsEntry;
using provium::agent::with_managed_block;

TEST(HostsFile, ReplacesOnlyItsOwnBlock) {
  const std::string original = "127.0.0.1 localhost\n::1 localhost\n";
  const std::string first = with_managed_block(original, {{"10.0.1.2", {"a.lan"}}, {"10.0.1.3", {"b.lan", "b"}}});
  EXPECT_EQ(first, original +
                       "# provium: begin (managed by provium-agent; do not edit)\n"
                       "10.0.1.2 a.lan\n10.0.1.3 b.lan b\n"
                       "# provium: end\n");
  const std::string second = with_managed_block(first + "192.168.0.9 added-later\n", {{"10.0.1.4", {"c.lan"}}});
  EXPECT_EQ(second, original + "192.168.0.9 added-later\n"
                               "# provium: begin (managed by provium-agent; do not edit)\n"
                               "10.0.1.4 c.lan\n# provium: end\n");
  EXPECT_EQ(with_managed_block(second, {}), original + "192.168.0.9 added-later\n");
}

class AgentNetwork : public AgentProtocol {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "a network namespace and a veth interface need root";
    if (!provium::find_program("ip")) GTEST_SKIP() << "iproute2's ip is needed to make the veth interface";
    hosts_ = scratch("hosts");
    std::ofstream(hosts_) << "127.0.0.1 localhost\n";
    AgentProtocol::SetUp();
    auto dummy = client_->run({.argv = {"ip", "link", "add", "nic0", "address", "52:54:00:aa:00:02", "type", "veth", "peer", "name", "nic1"}});
    ASSERT_EQ(dummy->getRun().getExitCode(), 0) << dummy.stderr_text();
  }
  void customize(provium::SpawnSpec& spec) override {
    spec.argv.insert(spec.argv.end(), {"--hosts-file", hosts_});
    spec.before_exec = []() -> const char* { return ::unshare(CLONE_NEWNET) == 0 ? nullptr : "unshare(CLONE_NEWNET)"; };
  }
  Response configure(const std::vector<std::uint8_t>& mac, const std::vector<std::string>& addresses, bool up = true) {
    return client_->call([&](wire::Request::Builder r) {
      auto nic = r.initConfigureNic();
      nic.setMac(capnp::Data::Reader(mac.data(), mac.size()));
      auto list = nic.initAddresses(static_cast<unsigned>(addresses.size()));
      for (unsigned i = 0; i < addresses.size(); ++i) list.set(i, addresses[i]);
      nic.setUp(up);
    });
  }
  std::string shell(const std::string& command) { return client_->run({.argv = {"sh", "-c", command}}).stdout_text(); }

  std::string hosts_;
};

const std::vector<std::uint8_t> kMac = {0x52, 0x54, 0x00, 0xaa, 0x00, 0x02};

TEST_F(AgentNetwork, ConfiguresTheInterfaceWithThatHardwareAddress) {
  auto done = configure(kMac, {"10.0.1.2/24"});
  ASSERT_TRUE(done->isDone()) << error_text(done);
  EXPECT_EQ(shell("ip -o -4 addr show dev nic0 | awk '{print $4}'"), "10.0.1.2/24\n");
  EXPECT_NE(shell("ip -o link show dev nic0").find("UP"), std::string::npos);

  // Again: the new addresses replace the old ones.
  ASSERT_TRUE(configure(kMac, {"10.0.2.2/24", "10.0.3.2/16"})->isDone());
  EXPECT_EQ(shell("ip -o -4 addr show dev nic0 | awk '{print $4}' | sort"), "10.0.2.2/24\n10.0.3.2/16\n");

  ASSERT_TRUE(configure(kMac, {}, false)->isDone());
  EXPECT_EQ(shell("ip -o -4 addr show dev nic0"), "");
  EXPECT_EQ(shell("ip -o link show dev nic0").find(",UP"), std::string::npos);
}

TEST_F(AgentNetwork, RefusesWhatItCannotApply) {
  auto unknown = configure({0x52, 0x54, 0x00, 0xaa, 0x00, 0x99}, {"10.0.1.2/24"});
  EXPECT_EQ(unknown->getError().getErrno(), ENODEV);
  EXPECT_EQ(error_text(unknown), "configureNic: no interface with hardware address 52:54:00:aa:00:99: No such device");
  for (const char* bad : {"10.0.1.2", "10.0.1.2/33", "fe80::1/64", "ten.zero/8"}) {
    auto refused = configure(kMac, {bad});
    EXPECT_EQ(refused->getError().getErrno(), EINVAL) << bad;
    EXPECT_NE(error_text(refused).find(bad), std::string::npos) << error_text(refused);
  }
  EXPECT_EQ(error_text(configure({1, 2, 3}, {})), "configureNic: mac must be 6 bytes, got 3: Invalid argument");
  EXPECT_EQ(shell("ip -o -4 addr show dev nic0"), "") << "a refused request changes nothing";
}

TEST_F(AgentNetwork, SetHostsRewritesTheManagedBlock) {
  auto set = client_->call([](wire::Request::Builder r) {
    auto entries = r.initSetHosts().initEntries(2);
    entries[0].setAddress("10.0.1.2");
    entries[0].initNames(1).set(0, "a.lan");
    entries[1].setAddress("10.0.1.3");
    auto names = entries[1].initNames(2);
    names.set(0, "b.lan");
    names.set(1, "b");
  });
  ASSERT_TRUE(set->isDone()) << error_text(set);
  std::ifstream file(hosts_);
  std::stringstream content;
  content << file.rdbuf();
  EXPECT_EQ(content.str(), "127.0.0.1 localhost\n# provium: begin (managed by provium-agent; do not edit)\n"
                           "10.0.1.2 a.lan\n10.0.1.3 b.lan b\n# provium: end\n");

  auto hostile = client_->call([](wire::Request::Builder r) {
    auto entry = r.initSetHosts().initEntries(1)[0];
    entry.setAddress("10.0.1.9");
    entry.initNames(1).set(0, "evil\n1.2.3.4 bank.example");
  });
  EXPECT_EQ(hostile->getError().getErrno(), EINVAL);
  EXPECT_NE(error_text(hostile).find("contains whitespace"), std::string::npos) << error_text(hostile);
}

}  // namespace
