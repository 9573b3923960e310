// The kernel datapath behind FileNetwork, with real frames: the test plays
// the guests by reading and writing the TAP fds provision() hands out (as
// QEMU would), and proves drops with sentinels (tap_endpoint.h), not clocks.
#include "kernel_file_network.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/capability.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "bridge_injector.h"
#include "datapath_support.h"
#include "kernel_fixture.h"
#include "link.h"
#include "qdisc_info.h"
#include "tap_endpoint.h"
#include "test_frame.h"

namespace provium::net {
namespace {

using netsetup::testing::BridgeInjector;
using netsetup::testing::FrameKind;
using netsetup::testing::kBridgeId;
using netsetup::testing::TapEndpoint;
using netsetup::testing::TestFrame;

std::set<std::string> host_links() {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator("/sys/class/net")) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

std::size_t thread_count() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++count;
  return count;
}

// Network-namespace handles this process holds (fds on nsfs "net:[...]").
std::set<std::string> held_net_namespaces() {
  std::set<std::string> held;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    const auto target = std::filesystem::read_symlink(entry.path(), error).string();
    if (!error && target.rfind("net:[", 0) == 0) held.insert(target);
  }
  return held;
}

// Two guests `a` and `b` with one slot each, on bridge `lan`.
class KernelFileNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PROVIUM_SKIP_WITHOUT_KERNEL_DATAPATH();
    network.emplace(7);
    network->add_bridge("lan", {.network = 0x0a010000, .prefix_length = 24, .gateway = 0x0a010001});
    auto a_slots = network->provision("a", 1);
    auto b_slots = network->provision("b", 1);
    ASSERT_EQ(a_slots.size(), 1u);
    ASSERT_EQ(a_slots[0].kind, GuestNicBackend::Kind::tap);
    a_fd = std::move(a_slots[0].fd);
    b_fd = std::move(b_slots[0].fd);
    a.emplace(a_fd.get(), network->tap_interface("a", 0), 1);
    b.emplace(b_fd.get(), network->tap_interface("b", 0), 2);
  }

  void attach_both() {
    network->attach("lan", "a", 0);
    network->attach("lan", "b", 0);
    injector.emplace(network->network_namespace(), network->bridge_interface("lan"));
  }

  netsetup::RouteSocket& route() { return network->network_namespace().route(); }

  std::size_t deliver(TapEndpoint& from, TapEndpoint& to, std::uint32_t count, std::size_t size = 60) {
    from.send_data(to, count, size);
    const std::uint32_t sentinel = next_sentinel++;
    const auto received = to.receive_until_sentinel(sentinel, [&] {
      injector->send({.from = kBridgeId, .to = to.id(), .kind = FrameKind::sentinel, .sequence = sentinel});
    });
    return received.count_from(from);
  }

  std::optional<KernelFileNetwork> network;
  OwnedFd a_fd, b_fd;
  std::optional<TapEndpoint> a, b;
  std::optional<BridgeInjector> injector;
  std::uint32_t next_sentinel = 1;
};

TEST_F(KernelFileNetworkTest, ProvisionedSlotsCarryNothingUntilAttached) {
  EXPECT_STREQ(network->datapath(), "kernel");
  const auto state = netsetup::link_state(route(), network->tap_interface("a", 0));
  EXPECT_FALSE(state.up);
  EXPECT_EQ(state.master_ifindex, 0);
  EXPECT_EQ(a->send({.from = 1, .to = 2}), EIO) << "a down TAP refuses the guest's frames";
}

TEST_F(KernelFileNetworkTest, AttachedGuestsExchangeFramesAndDetachCutsOne) {
  attach_both();
  EXPECT_EQ(deliver(*a, *b, 20), 20u);
  EXPECT_EQ(deliver(*b, *a, 20), 20u);
  network->detach("lan", "b");
  const auto state = netsetup::link_state(route(), network->tap_interface("b", 0));
  EXPECT_FALSE(state.up);
  EXPECT_EQ(state.master_ifindex, 0);
  EXPECT_EQ(b->send({.from = 2, .to = 1}), EIO);
  network->attach("lan", "b", 0);
  EXPECT_EQ(deliver(*a, *b, 5), 5u);
}

TEST_F(KernelFileNetworkTest, AttachRefusesWhatIsNotThere) {
  EXPECT_THROW(network->attach("wan", "a", 0), NetworkError);
  EXPECT_THROW(network->attach("lan", "c", 0), NetworkError);
  try {
    network->attach("lan", "a", 3);
    ADD_FAILURE() << "slot 3 does not exist";
  } catch (const NetworkError& error) {
    EXPECT_NE(std::string(error.what()).find("no slot 3"), std::string::npos) << error.what();
  }
  EXPECT_THROW(network->provision("a", 1), NetworkError);
}

TEST_F(KernelFileNetworkTest, PartitionsAreDirectionalAndHeal) {
  attach_both();
  network->apply("lan", {.blocked = {{"a", "b"}}});
  EXPECT_EQ(deliver(*a, *b, 20), 0u);
  EXPECT_EQ(deliver(*b, *a, 20), 20u);
  network->apply("lan", {});
  EXPECT_EQ(deliver(*a, *b, 20), 20u);
}

TEST_F(KernelFileNetworkTest, IsolationCutsBothWays) {
  attach_both();
  network->apply("lan", {.isolated = {"b"}});
  EXPECT_EQ(deliver(*a, *b, 10), 0u);
  EXPECT_EQ(deliver(*b, *a, 10), 0u);
}

TEST_F(KernelFileNetworkTest, APolicyNamingAVmNotYetAttachedTakesEffectOnAttach) {
  network->attach("lan", "a", 0);
  network->apply("lan", {.blocked = {{"b", "a"}}});
  network->attach("lan", "b", 0);
  injector.emplace(network->network_namespace(), network->bridge_interface("lan"));
  EXPECT_EQ(deliver(*b, *a, 10), 0u);
  EXPECT_EQ(deliver(*a, *b, 10), 10u);
}

TEST_F(KernelFileNetworkTest, LossDropsRoughlyTheAskedShare) {
  attach_both();
  BridgePolicy policy;
  policy.whole.loss = 0.5;
  network->apply("lan", policy);
  const std::size_t got = deliver(*a, *b, 1000);
  EXPECT_GT(got, 350u);
  EXPECT_LT(got, 650u);
}

TEST_F(KernelFileNetworkTest, APairsLossReplacesTheWholeBridges) {
  attach_both();
  BridgePolicy policy;
  policy.whole.loss = 1.0;
  policy.pairs[{"a", "b"}].loss = 0.0;
  network->apply("lan", policy);
  EXPECT_EQ(deliver(*a, *b, 50), 50u);
  EXPECT_EQ(deliver(*b, *a, 50), 0u);
}

TEST_F(KernelFileNetworkTest, BandwidthShapesTheDestinationsTap) {
  attach_both();
  BridgePolicy policy;
  policy.pairs[{"a", "b"}].bandwidth_bps = 8'000'000;
  network->apply("lan", policy);
  const auto shaper = netsetup::root_qdisc(route(), network->tap_interface("b", 0));
  ASSERT_TRUE(shaper.has_value());
  EXPECT_EQ(shaper->kind, "tbf");
  EXPECT_EQ(shaper->tbf_rate_bytes_per_second, 1'000'000u);
  const auto other = netsetup::root_qdisc(route(), network->tap_interface("a", 0));
  EXPECT_TRUE(!other || other->kind != "tbf") << "b -> a is not limited";
  EXPECT_EQ(deliver(*a, *b, 20), 20u);
  network->apply("lan", {});
  const auto removed = netsetup::root_qdisc(route(), network->tap_interface("b", 0));
  EXPECT_TRUE(!removed || removed->kind != "tbf");
}

TEST_F(KernelFileNetworkTest, LatencyWithoutNetemFailsAndKeepsThePreviousPolicy) {
  if (!netsetup::testing::feature_missing(netsetup::feature::netem)) GTEST_SKIP() << "this kernel has sch_netem";
  attach_both();
  network->apply("lan", {.blocked = {{"a", "b"}}});
  BridgePolicy slow;
  slow.whole.latency = std::chrono::milliseconds(50);
  try {
    network->apply("lan", slow);
    ADD_FAILURE() << "latency needs sch_netem";
  } catch (const NetworkError& error) {
    EXPECT_NE(std::string(error.what()).find("sch_netem"), std::string::npos) << error.what();
  }
  EXPECT_EQ(deliver(*a, *b, 10), 0u) << "the partition is still in force";
  EXPECT_EQ(deliver(*b, *a, 10), 10u);
}

TEST_F(KernelFileNetworkTest, AFailingApplyLeavesThePreviousState) {
  attach_both();
  BridgePolicy first;
  first.blocked = {{"a", "b"}};
  first.pairs[{"a", "b"}].bandwidth_bps = 8'000'000;
  network->apply("lan", first);
  BridgePolicy bad;
  bad.pairs[{"b", "a"}].bandwidth_bps = 10;  // below tbf's range
  EXPECT_THROW(network->apply("lan", bad), NetworkError);
  EXPECT_EQ(deliver(*a, *b, 10), 0u);
  const auto shaper = netsetup::root_qdisc(route(), network->tap_interface("b", 0));
  ASSERT_TRUE(shaper.has_value());
  EXPECT_EQ(shaper->kind, "tbf");
}

TEST_F(KernelFileNetworkTest, CountersAreTheGuestsView) {
  attach_both();
  const NicCounters a_before = network->counters("lan", "a");
  const NicCounters b_before = network->counters("lan", "b");
  ASSERT_EQ(deliver(*a, *b, 50, 100), 50u);
  const NicCounters a_after = network->counters("lan", "a");
  const NicCounters b_after = network->counters("lan", "b");
  EXPECT_EQ(a_after.tx_packets - a_before.tx_packets, 50u);
  EXPECT_EQ(a_after.tx_bytes - a_before.tx_bytes, 5000u);
  EXPECT_GE(b_after.rx_packets - b_before.rx_packets, 51u) << "the 50 frames and a sentinel";
  EXPECT_THROW(network->counters("lan", "nobody"), NetworkError);
}

// Reads a pcap stream until `wanted` of the test's data frames from `from`
// arrived; fails after 60 s.
std::size_t read_captured_frames(int fd, std::uint8_t from, std::size_t wanted) {
  std::vector<std::uint8_t> stream;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::size_t found = 0;
  std::size_t offset = 24;
  while (found < wanted && std::chrono::steady_clock::now() < deadline) {
    pollfd readable{.fd = fd, .events = POLLIN, .revents = 0};
    if (::poll(&readable, 1, 1000) <= 0) continue;
    std::uint8_t chunk[65536];
    const ssize_t length = ::read(fd, chunk, sizeof chunk);
    if (length <= 0) break;
    stream.insert(stream.end(), chunk, chunk + length);
    if (stream.size() >= 4) {
      std::uint32_t magic;
      std::memcpy(&magic, stream.data(), 4);
      EXPECT_EQ(magic, 0xa1b2c3d4u);
    }
    while (stream.size() >= offset + 16) {
      std::uint32_t captured;
      std::memcpy(&captured, stream.data() + offset + 8, 4);
      if (stream.size() < offset + 16 + captured) break;
      const auto frame = netsetup::testing::decode_frame({stream.data() + offset + 16, captured});
      if (frame && frame->kind == FrameKind::data && frame->from == from) ++found;
      offset += 16 + captured;
    }
  }
  return found;
}

TEST_F(KernelFileNetworkTest, CaptureWritesPcapOfTheBridgeAndOfOneGuest) {
  attach_both();
  const std::size_t threads_before = thread_count();
  OwnedFd whole = network->capture("lan", std::nullopt);
  OwnedFd of_b = network->capture("lan", "b");
  EXPECT_EQ(thread_count(), threads_before + 2);
  ASSERT_EQ(deliver(*a, *b, 10), 10u);
  EXPECT_EQ(read_captured_frames(whole.get(), 1, 10), 10u);
  EXPECT_EQ(read_captured_frames(of_b.get(), 1, 10), 10u);
  // The reader leaving ends its capture thread; the network joins the other.
  of_b.reset();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (thread_count() > threads_before + 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(thread_count(), threads_before + 1);
  network.reset();
  EXPECT_EQ(thread_count(), threads_before);
  std::uint8_t rest[65536];
  ssize_t length;
  while ((length = ::read(whole.get(), rest, sizeof rest)) > 0) {
  }
  EXPECT_EQ(length, 0) << "the whole-bridge capture ends with the network";
}

TEST_F(KernelFileNetworkTest, CaptureOfAVmNotOnTheBridgeFails) {
  EXPECT_THROW(network->capture("lan", "a"), NetworkError);
  EXPECT_THROW(network->capture("wan", std::nullopt), NetworkError);
}

TEST_F(KernelFileNetworkTest, UplinkReachesAHostListenerAndGoesAway) {
  attach_both();
  const auto before = host_links();
  const UplinkInfo uplink = network->enable_uplink("lan");
  EXPECT_EQ(uplink.gateway, 0x0a010001u);
  EXPECT_EQ(uplink.host_address & 0xffff0000u, 0x64400000u) << "in 100.64.0.0/16";
  const auto with = host_links();
  ASSERT_EQ(with.size(), before.size() + 1);

  // A listener on the host side, reached from inside the file's namespace.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  OwnedFd listening(listener);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(uplink.host_address);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0) << strerror(errno);
  socklen_t size = sizeof address;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  const int connected = network->network_namespace().run_inside([&] {
    const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int result = ::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::close(client);
    return result == 0 ? 0 : errno;
  });
  EXPECT_EQ(connected, 0) << strerror(connected);

  network->disable_uplink("lan");
  EXPECT_EQ(host_links(), before);
  network->enable_uplink("lan");
  EXPECT_EQ(host_links().size(), before.size() + 1);
  network.reset();
  EXPECT_EQ(host_links(), before) << "the host end goes with the namespace";
}

TEST(KernelFileNetworkLifetime, DestructionLeavesNothing) {
  PROVIUM_SKIP_WITHOUT_KERNEL_DATAPATH();
  const auto links_before = host_links();
  const auto namespaces_before = held_net_namespaces();
  const std::size_t threads_before = thread_count();
  {
    KernelFileNetwork network(1);
    network.add_bridge("a very long bridge name, with spaces", {.gateway = 0x0a020001});
    auto slots = network.provision("vm", 2);
    network.attach("a very long bridge name, with spaces", "vm", 1);
    network.enable_uplink("a very long bridge name, with spaces");
    OwnedFd capture = network.capture("a very long bridge name, with spaces", "vm");
    EXPECT_EQ(held_net_namespaces().size(), namespaces_before.size() + 1);
    EXPECT_EQ(network.bridge_interface("a very long bridge name, with spaces"), "br0");
  }
  EXPECT_EQ(host_links(), links_before);
  EXPECT_EQ(held_net_namespaces(), namespaces_before);
  EXPECT_EQ(thread_count(), threads_before);
}

TEST(KernelFileNetworkLifetime, WithoutCapNetAdminTheConstructorSaysSo) {
  PROVIUM_SKIP_WITHOUT_KERNEL_DATAPATH();
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    cap_t caps = cap_get_proc();
    const cap_value_t net_admin = CAP_NET_ADMIN;
    cap_set_flag(caps, CAP_EFFECTIVE, 1, &net_admin, CAP_CLEAR);
    if (cap_set_proc(caps) != 0) ::_exit(2);
    try {
      KernelFileNetwork network(1);
    } catch (const NetworkError& error) {
      ::_exit(std::string(error.what()).find("CAP_NET_ADMIN") != std::string::npos ? 0 : 3);
    }
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(KernelFileNetworkLifetime, UsableHereAgreesWithDetection) {
  std::string why;
  const bool usable = kernel_datapath_usable(&why);
  EXPECT_EQ(usable, !netsetup::testing::kernel_datapath_missing().has_value() &&
                        !netsetup::testing::feature_missing(netsetup::feature::nftables_bridge))
      << why;
  if (!usable) {
    EXPECT_NE(why.find("kernel datapath unavailable"), std::string::npos) << why;
  }
}

}  // namespace
}  // namespace provium::net
