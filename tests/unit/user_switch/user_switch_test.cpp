// The switch with real datagram socket pairs standing in for QEMU: each test
// holds the guest ends and sends and receives Ethernet frames on them.
#include "user_switch.h"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <vector>

namespace provium::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

MacAddress mac(std::uint8_t last) { return {0x52, 0x54, 0x00, 0x00, 0x00, last}; }
const MacAddress kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

std::vector<std::uint8_t> frame(const MacAddress& to, const MacAddress& from, std::size_t size = 64,
                                std::uint8_t fill = 0) {
  std::vector<std::uint8_t> bytes(size, fill);
  std::copy(to.begin(), to.end(), bytes.begin());
  std::copy(from.begin(), from.end(), bytes.begin() + 6);
  bytes[12] = 0x88;  // a local experimental ethertype
  bytes[13] = 0xb5;
  return bytes;
}

// One guest NIC: the QEMU end of a port.
struct Guest {
  PortId port;
  OwnedFd fd;
  MacAddress address;

  void send(const std::vector<std::uint8_t>& bytes) const {
    ASSERT_EQ(::send(fd.get(), bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
  }
  void send_to(const Guest& other, std::size_t size = 64, std::uint8_t fill = 0) const {
    send(frame(other.address, address, size, fill));
  }
  void broadcast() const { send(frame(kBroadcast, address)); }

  // The next frame within `limit`, or nullopt.
  std::optional<std::vector<std::uint8_t>> receive(std::chrono::milliseconds limit = 60000ms) const {
    pollfd ready{.fd = fd.get(), .events = POLLIN, .revents = 0};
    if (::poll(&ready, 1, static_cast<int>(limit.count())) <= 0) return std::nullopt;
    std::vector<std::uint8_t> bytes(65536);
    const ssize_t got = ::recv(fd.get(), bytes.data(), bytes.size(), 0);
    if (got < 0) return std::nullopt;
    bytes.resize(static_cast<std::size_t>(got));
    return bytes;
  }
  // Nothing arrives within a short wait. A negative check: a slow machine can
  // only make it pass more easily, never fail wrongly.
  bool hears_nothing() const { return !receive(300ms).has_value(); }
  // Receives until every one of `sent` frames meant for this guest is either
  // here or counted as dropped by `lan` (60 s at most); returns how many came.
  int collect(const UserSwitch& lan, std::uint64_t sent, int received = 0) const {
    const auto deadline = Clock::now() + 60s;
    while (static_cast<std::uint64_t>(received) + lan.counters(port).dropped < sent && Clock::now() < deadline) {
      if (receive(100ms)) ++received;
    }
    return received;
  }
};

class UserSwitchTest : public ::testing::Test {
 protected:
  Guest attach(std::uint8_t last_octet) {
    NewPort port = switch_.add_port();
    return Guest{.port = port.id, .fd = std::move(port.guest_end), .address = mac(last_octet)};
  }
  // Every guest sends one broadcast, so the switch knows every address.
  void introduce(std::initializer_list<const Guest*> guests) {
    for (const Guest* guest : guests) guest->broadcast();
    for (const Guest* guest : guests) {
      for (std::size_t i = 1; i < guests.size(); ++i) ASSERT_TRUE(guest->receive()) << "a broadcast was lost";
    }
  }

  UserSwitch switch_{"lan", 42};
};

TEST_F(UserSwitchTest, FloodsBroadcastsAndLearnsWhereAddressesLive) {
  Guest a = attach(1), b = attach(2), c = attach(3);
  a.broadcast();
  EXPECT_TRUE(b.receive());
  EXPECT_TRUE(c.receive());
  EXPECT_TRUE(a.hears_nothing()) << "a frame must not come back to its sender";

  b.send_to(a);  // a was learned from its broadcast
  const auto got = a.receive();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, frame(a.address, b.address));
  EXPECT_TRUE(c.hears_nothing()) << "a unicast to a learned address goes to its port only";

  a.send(frame(mac(99), a.address));  // nobody has this address: flood
  EXPECT_TRUE(b.receive());
  EXPECT_TRUE(c.receive());

  const PortCounters counters = switch_.counters(a.port);
  EXPECT_EQ(counters.rx_frames, 2u);
  EXPECT_EQ(counters.tx_frames, 1u);
  EXPECT_EQ(counters.tx_bytes, 64u);
}

TEST_F(UserSwitchTest, SymmetricAndDirectionalPartitions) {
  Guest a = attach(1), b = attach(2), c = attach(3);
  introduce({&a, &b, &c});

  switch_.edit_policy([&](LinkPolicy& policy) { policy.block(a.port, b.port), policy.block(b.port, a.port); });
  a.send_to(b);
  b.send_to(a);
  EXPECT_TRUE(b.hears_nothing());
  EXPECT_TRUE(a.hears_nothing());
  a.send_to(c);
  EXPECT_TRUE(c.receive()) << "a partition between a and b leaves c alone";

  switch_.edit_policy([&](LinkPolicy& policy) { policy.unblock(b.port, a.port); });  // now only a -> b is cut
  a.send_to(b);
  EXPECT_TRUE(b.hears_nothing());
  b.send_to(a);
  EXPECT_TRUE(a.receive());
  EXPECT_GE(switch_.counters(b.port).dropped, 2u);
}

TEST_F(UserSwitchTest, AnIsolatedPortReachesNobodyAndNobodyReachesIt) {
  Guest a = attach(1), b = attach(2), c = attach(3);
  introduce({&a, &b, &c});
  switch_.edit_policy([&](LinkPolicy& policy) { policy.isolate(c.port, true); });
  c.broadcast();
  a.broadcast();
  EXPECT_TRUE(b.receive()) << "a's broadcast still reaches b";
  EXPECT_TRUE(b.hears_nothing()) << "c's broadcast must not";
  EXPECT_TRUE(c.hears_nothing());
}

TEST_F(UserSwitchTest, ALinkThatIsDownNeitherSendsNorReceives) {
  Guest a = attach(1), b = attach(2);
  introduce({&a, &b});
  switch_.set_link(b.port, false);
  a.send_to(b);
  b.send_to(a);
  EXPECT_TRUE(b.hears_nothing());
  EXPECT_TRUE(a.hears_nothing());
  switch_.set_link(b.port, true);
  a.send_to(b);
  EXPECT_TRUE(b.receive());
}

// Loss is drawn from the seeded generator: the rate is close to what was
// asked, and one seed gives exactly one outcome.
TEST_F(UserSwitchTest, LossDropsTheAskedFractionReproducibly) {
  constexpr int kFrames = 2000;
  auto delivered_with_seed = [](std::uint64_t seed) {
    UserSwitch lossy("lossy", seed);
    NewPort pa = lossy.add_port(), pb = lossy.add_port();
    Guest a{pa.id, std::move(pa.guest_end), mac(1)}, b{pb.id, std::move(pb.guest_end), mac(2)};
    b.broadcast();  // learn b before loss starts
    EXPECT_TRUE(a.receive());
    lossy.edit_policy([](LinkPolicy& policy) { policy.whole().loss = 0.3; });
    int received = 0;
    for (int i = 0; i < kFrames; ++i) {
      a.send_to(b);
      // Batches of 100, each accounted for, so a full socket never drops any.
      if (i % 100 == 99) received = b.collect(lossy, static_cast<std::uint64_t>(i + 1), received);
    }
    EXPECT_EQ(lossy.counters(pb.id).dropped, static_cast<std::uint64_t>(kFrames - received));
    return received;
  };
  const int first = delivered_with_seed(7);
  EXPECT_NEAR(static_cast<double>(kFrames - first) / kFrames, 0.3, 0.05);
  EXPECT_EQ(delivered_with_seed(7), first);
}

// Only lower bounds on time: a frame can never arrive before its delay.
TEST_F(UserSwitchTest, LatencyDelaysEveryFrameAndKeepsTheirOrder) {
  Guest a = attach(1), b = attach(2);
  introduce({&a, &b});
  switch_.edit_policy([&](LinkPolicy& policy) { policy.pair(a.port, b.port).latency = 80ms; });
  const auto sent = Clock::now();
  for (std::uint8_t i = 0; i < 5; ++i) a.send_to(b, 64, i);
  for (std::uint8_t i = 0; i < 5; ++i) {
    const auto got = b.receive();
    ASSERT_TRUE(got);
    EXPECT_GE(Clock::now() - sent, 80ms);
    EXPECT_EQ(got->back(), i) << "frames of one pair keep their order";
  }
  b.send_to(a);  // the other direction is not delayed... but nothing asserts how fast it is
  EXPECT_TRUE(a.receive());
  EXPECT_EQ(switch_.frames_in_flight(), 0u);
}

TEST_F(UserSwitchTest, BandwidthSpacesFramesAndTailDropsPastTheBacklog) {
  Guest a = attach(1), b = attach(2);
  introduce({&a, &b});
  switch_.edit_policy([&](LinkPolicy& policy) { policy.pair(a.port, b.port).bandwidth_bps = 1'000'000; });
  // 50 x 1000 bytes = 400 kbit: at 1 Mbit/s the last leaves >= 392 ms after the first.
  const auto sent = Clock::now();
  for (int i = 0; i < 50; ++i) a.send_to(b, 1000);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(b.receive()) << "frame " << i;
  EXPECT_GE(Clock::now() - sent, 392ms);

  // 600 KB at once is more than the 256 KiB backlog: the excess is dropped.
  for (int i = 0; i < 400; ++i) a.send_to(b, 1500);
  const int received = b.collect(switch_, 400);
  EXPECT_LT(received, 400);
  EXPECT_GT(received, 100);
  EXPECT_EQ(switch_.counters(b.port).dropped, static_cast<std::uint64_t>(400 - received));
}

class CollectingTap : public FrameTap {
 public:
  void on_frame(std::chrono::system_clock::time_point, std::span<const std::uint8_t> frame) override {
    std::lock_guard lock(mutex_);
    frames_.emplace_back(frame.begin(), frame.end());
  }
  std::vector<std::vector<std::uint8_t>> frames() {
    std::lock_guard lock(mutex_);
    return frames_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::vector<std::uint8_t>> frames_;
};

TEST_F(UserSwitchTest, TapsSeeTheSwitchOrOnePort) {
  Guest a = attach(1), b = attach(2), c = attach(3);
  introduce({&a, &b, &c});
  auto everything = std::make_shared<CollectingTap>();
  auto only_b = std::make_shared<CollectingTap>();
  switch_.add_tap(everything);
  const std::uint64_t b_tap = switch_.add_tap(only_b, b.port);
  a.send_to(b, 64, 1);
  ASSERT_TRUE(b.receive());
  a.send_to(c, 64, 2);
  ASSERT_TRUE(c.receive());
  b.send_to(c, 64, 3);
  ASSERT_TRUE(c.receive());

  ASSERT_EQ(everything->frames().size(), 3u) << "each frame once, as it entered the switch";
  const auto seen_by_b = only_b->frames();
  ASSERT_EQ(seen_by_b.size(), 2u) << "b's tap: what b received and what b sent";
  EXPECT_EQ(seen_by_b[0].back(), 1);
  EXPECT_EQ(seen_by_b[1].back(), 3);
  switch_.remove_tap(b_tap);
  a.send_to(b);
  ASSERT_TRUE(b.receive());
  EXPECT_EQ(only_b->frames().size(), 2u);
}

TEST_F(UserSwitchTest, ARemovedPortLosesItsQueuedFramesQuietly) {
  Guest a = attach(1), b = attach(2);
  introduce({&a, &b});
  switch_.edit_policy([](LinkPolicy& policy) { policy.whole().latency = 100ms; });
  a.send_to(b);
  switch_.remove_port(b.port);
  EXPECT_TRUE(b.hears_nothing());
  EXPECT_THROW(switch_.counters(b.port), std::invalid_argument);
  a.broadcast();  // floods to nobody
  EXPECT_TRUE(a.hears_nothing());
}

}  // namespace
}  // namespace provium::net
