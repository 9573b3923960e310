// The supervisor's side of test networks against hostile or mistaken
// requests: bad names, foreign or unready VMs, absurd policy values. A
// recording FileNetwork stands in for the datapath (the datapaths have their
// own tests with real frames; tests/lua/networking.test.lua runs it all on
// real guests).
#include "test_network.h"

#include <gtest/gtest.h>

#include <kj/refcount.h>

namespace provium {
namespace {

using namespace std::chrono_literals;

class RecordingNetwork final : public net::FileNetwork {
 public:
  const char* datapath() const override { return "recording"; }
  std::vector<net::GuestNicBackend> provision(const std::string& vm, std::size_t slots) override {
    provisioned.push_back(vm);
    std::vector<net::GuestNicBackend> backends(slots);
    return backends;
  }
  void release(const std::string& vm) override { released.push_back(vm); }
  void add_bridge(const std::string& bridge, const net::BridgeSubnet& subnet) override { subnets[bridge] = subnet; }
  void attach(const std::string& bridge, const std::string& vm, std::size_t slot) override {
    attached.push_back(bridge + ":" + vm + ":" + std::to_string(slot));
  }
  void detach(const std::string& bridge, const std::string& vm) override { detached.push_back(bridge + ":" + vm); }
  void apply(const std::string&, const net::BridgePolicy& policy) override {
    applied = policy;
    ++applies;
  }
  net::NicCounters counters(const std::string&, const std::string&) const override { return {}; }
  OwnedFd capture(const std::string&, const std::optional<std::string>&) override { return OwnedFd(); }
  net::UplinkInfo enable_uplink(const std::string&) override { throw net::NetworkError("no uplink here"); }
  void disable_uplink(const std::string&) override {}

  std::vector<std::string> provisioned, released, attached, detached;
  std::map<std::string, net::BridgeSubnet> subnets;
  net::BridgePolicy applied;
  int applies = 0;
};

struct TestNetworkRequests : ::testing::Test {
  RecordingNetwork* recording = nullptr;
  TestNetwork network{[this] {
    auto made = std::make_unique<RecordingNetwork>();
    recording = made.get();
    return made;
  }};
  VmFleet fleet;

  kj::Own<VmSlot> booted_vm(const std::string& name) {
    auto slot = fleet.add(name, "default", VmRequest{});
    network.provision(*slot);
    slot->state = VmState::booted;
    return slot;
  }
};

TEST_F(TestNetworkRequests, BridgeNamesAreChecked) {
  EXPECT_THROW(network.declare_bridge(""), NetworkRequestError);
  EXPECT_THROW(network.declare_bridge("has space"), NetworkRequestError);
  EXPECT_THROW(network.declare_bridge(std::string(33, 'x')), NetworkRequestError);
  EXPECT_THROW(network.declare_bridge("sl/ash"), NetworkRequestError);
  EXPECT_EQ(recording, nullptr) << "no network is made for a refused name";
  network.declare_bridge("lan");
  network.declare_bridge("lan");  // same name, same bridge
  network.declare_bridge("dc1.lan");  // a sub-lab's bridge
  EXPECT_EQ(recording->subnets.size(), 2u);
  EXPECT_EQ(recording->subnets["lan"].network, 0x0a010000u);
}

TEST_F(TestNetworkRequests, TooManyBridgesAreRefused) {
  for (std::size_t i = 0; i < TestNetwork::kMaxBridges; ++i) network.declare_bridge("b" + std::to_string(i));
  EXPECT_THROW(network.declare_bridge("one-more"), NetworkRequestError);
}

TEST_F(TestNetworkRequests, VmsBootedBeforeAnyBridgeHaveNoSlotsAndCannotJoin) {
  auto early = fleet.add("early", "default", VmRequest{});
  EXPECT_TRUE(network.provision(*early).backends.empty());
  early->state = VmState::booted;
  network.declare_bridge("lan");
  try {
    network.attach("lan", {early.get()});
    FAIL() << "attach of a VM without slots succeeded";
  } catch (const NetworkRequestError& error) {
    EXPECT_NE(std::string(error.what()).find("declare bridges first"), std::string::npos) << error.what();
  }
}

TEST_F(TestNetworkRequests, AttachGivesAddressesMacsAndNamesByCreationOrder) {
  network.declare_bridge("one");
  network.declare_bridge("two");
  auto a = booted_vm("a");
  auto b = booted_vm("b");
  const MembershipChange change = network.attach("two", {a.get(), b.get()});
  ASSERT_EQ(change.nics.size(), 2u);
  EXPECT_EQ(change.nics[1].address, "10.2.0.2/24");
  EXPECT_EQ(change.nics[1].mac, (MacAddress{0x52, 0x54, 0x00, 0x00, 0x02, 0x00}));
  ASSERT_EQ(change.hosts.size(), 2u);
  ASSERT_EQ(change.hosts[0].entries.size(), 2u);
  EXPECT_EQ(change.hosts[0].entries[1].name, "b.two");
  EXPECT_EQ(change.hosts[0].entries[1].address, "10.2.0.2");
  // The next bridge takes the next free slot.
  const MembershipChange again = network.attach("one", {a.get()});
  EXPECT_EQ(again.nics[0].slot, 1u);
}

TEST_F(TestNetworkRequests, SubLabMembersAlsoResolveByTheLabsOwnNames) {
  network.declare_bridge("dc1.lan");
  auto a = booted_vm("dc1.a");
  auto root = booted_vm("r");
  const MembershipChange change = network.attach("dc1.lan", {a.get(), root.get()});
  std::vector<std::string> names;
  for (const auto& entry : change.hosts[0].entries) names.push_back(entry.name);
  // dc1.a gets its short name too; r, not of the sub-lab, only its full one.
  EXPECT_EQ(names, (std::vector<std::string>{"dc1.a.dc1.lan", "a.lan", "r.dc1.lan"}));
}

TEST_F(TestNetworkRequests, AttachIsAllOrNone) {
  network.declare_bridge("lan");
  auto a = booted_vm("a");
  auto created = fleet.add("c", "default", VmRequest{});
  network.provision(*created);  // provisioned, but not running
  EXPECT_THROW(network.attach("lan", {a.get(), created.get()}), NetworkRequestError);
  EXPECT_TRUE(recording->attached.empty());
  EXPECT_THROW(network.attach("lan", {a.get(), a.get()}), NetworkRequestError);
  network.attach("lan", {a.get()});
  EXPECT_THROW(network.attach("lan", {a.get()}), NetworkRequestError) << "attached twice";
  EXPECT_THROW(network.attach("nope", {a.get()}), NetworkRequestError);
}

TEST_F(TestNetworkRequests, PoliciesNameOnlyMembersAndSaneValues) {
  network.declare_bridge("lan");
  auto a = booted_vm("a");
  auto b = booted_vm("b");
  network.attach("lan", {a.get(), b.get()});
  net::BridgePolicy stranger;
  stranger.blocked.insert({"a", "mallory"});
  EXPECT_THROW(network.set_policy("lan", stranger), NetworkRequestError);
  net::BridgePolicy lossy;
  lossy.whole.loss = 1.5;
  EXPECT_THROW(network.set_policy("lan", lossy), NetworkRequestError);
  net::BridgePolicy slow;
  slow.pairs[{"a", "b"}].latency = std::chrono::hours(2);
  EXPECT_THROW(network.set_policy("lan", slow), NetworkRequestError);
  net::BridgePolicy trickle;
  trickle.whole.bandwidth_bps = 1;
  EXPECT_THROW(network.set_policy("lan", trickle), NetworkRequestError);
  EXPECT_EQ(recording->applies, 0) << "nothing refused reaches the datapath";
  net::BridgePolicy good;
  good.blocked.insert({"a", "b"});
  good.whole.latency = 5ms;
  network.set_policy("lan", good);
  EXPECT_EQ(recording->applied, good);
}

TEST_F(TestNetworkRequests, ReleasedVmsLeaveEveryBridgeAndTheirRules) {
  network.declare_bridge("lan");
  auto a = booted_vm("a");
  auto b = booted_vm("b");
  network.attach("lan", {a.get(), b.get()});
  net::BridgePolicy policy;
  policy.isolated.insert("b");
  network.set_policy("lan", policy);
  network.release(*b);
  EXPECT_TRUE(recording->applied.isolated.empty());
  EXPECT_THROW(network.counters("lan", "b"), NetworkRequestError);
  EXPECT_EQ(recording->released, std::vector<std::string>{"b"});
}

}  // namespace
}  // namespace provium
