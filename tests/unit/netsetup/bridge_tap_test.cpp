// Bridges and TAPs with real frames: forwarding, link up/down, counters,
// and that a TAP goes away with its last fd.
#include <cerrno>

#include <gtest/gtest.h>

#include "kernel_fixture.h"
#include "link.h"

namespace provium::netsetup {
namespace {

using testing::ThreePortBridge;

TEST_F(ThreePortBridge, TapsArePortsOfTheBridgeAndUp) {
  for (const auto* tap : {&*tap_a, &*tap_b, &*tap_c}) {
    const LinkState state = link_state(ns->route(), tap->name());
    EXPECT_TRUE(state.up) << tap->name();
    EXPECT_TRUE(state.lower_up) << tap->name();
    EXPECT_EQ(state.master_ifindex, bridge->ifindex()) << tap->name();
  }
}

TEST_F(ThreePortBridge, FramesWrittenToOneTapComeOutOfAnother) {
  EXPECT_EQ(deliver(*a, *b, 20), 20u);
  EXPECT_EQ(deliver(*b, *a, 20), 20u);
  EXPECT_EQ(deliver(*c, *a, 20), 20u);
}

TEST_F(ThreePortBridge, CountersCountWhatTheGuestSideSentAndGot) {
  const LinkCounters a_before = link_counters(ns->route(), "tap-a");
  const LinkCounters b_before = link_counters(ns->route(), "tap-b");
  ASSERT_EQ(deliver(*a, *b, 50, 100), 50u);
  const LinkCounters a_after = link_counters(ns->route(), "tap-a");
  const LinkCounters b_after = link_counters(ns->route(), "tap-b");
  // What a's side wrote is the TAP's rx; nothing else writes to it.
  EXPECT_EQ(a_after.rx_packets - a_before.rx_packets, 50u);
  EXPECT_EQ(a_after.rx_bytes - a_before.rx_bytes, 50u * 100u);
  // b was given the 50 frames and at least one sentinel.
  EXPECT_GE(b_after.tx_packets - b_before.tx_packets, 51u);
  EXPECT_GE(b_after.tx_bytes - b_before.tx_bytes, 50u * 100u);
}

TEST_F(ThreePortBridge, ALinkSetDownStopsItsGuestSideAndComesBack) {
  set_link_up(ns->route(), "tap-b", false);
  EXPECT_FALSE(link_state(ns->route(), "tap-b").up);
  // A TAP that is down refuses frames from its guest side.
  EXPECT_EQ(b->send({.from = b->id(), .to = a->id()}), EIO);
  set_link_up(ns->route(), "tap-b", true);
  EXPECT_TRUE(link_state(ns->route(), "tap-b").up);
  EXPECT_EQ(deliver(*b, *a, 10), 10u);
  EXPECT_EQ(deliver(*a, *b, 10), 10u);
}

TEST_F(ThreePortBridge, ATapDisappearsWithItsLastFd) {
  b.reset();
  tap_b.reset();
  EXPECT_FALSE(link_exists(ns->route(), "tap-b"));
  EXPECT_TRUE(link_exists(ns->route(), "tap-a"));
}

TEST_F(ThreePortBridge, ATapNameCannotBeTakenTwice) {
  EXPECT_THROW(TapDevice::create(*bridge, "tap-a"), std::runtime_error);
  EXPECT_THROW(TapDevice::create(*bridge, "tap a"), std::invalid_argument);
}

}  // namespace
}  // namespace provium::netsetup
