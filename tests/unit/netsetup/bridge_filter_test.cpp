// The bridge filter acting on real frames: one-way and two-way partitions,
// isolation and random loss, each added and removed again.
#include "bridge_filter.h"

#include <gtest/gtest.h>

#include "kernel_fixture.h"

namespace provium::netsetup {
namespace {

class BridgeFilterTest : public testing::ThreePortBridge {
 protected:
  void SetUp() override {
    ThreePortBridge::SetUp();
    if (IsSkipped()) return;
    filter.emplace(*bridge);
  }
  std::optional<BridgeFilter> filter;
};

TEST_F(BridgeFilterTest, ABlockCutsOneDirectionOnly) {
  filter->block("tap-a", "tap-b");
  EXPECT_EQ(deliver(*a, *b, 20), 0u);
  EXPECT_EQ(deliver(*b, *a, 20), 20u);
  EXPECT_EQ(deliver(*a, *c, 20), 20u);
  filter->unblock("tap-a", "tap-b");
  EXPECT_EQ(deliver(*a, *b, 20), 20u);
}

TEST_F(BridgeFilterTest, APartitionCutsBothDirectionsBetweenTwoPortsOnly) {
  filter->partition("tap-a", "tap-b");
  EXPECT_TRUE(filter->rules().blocked("tap-b", "tap-a"));
  EXPECT_EQ(deliver(*a, *b, 20), 0u);
  EXPECT_EQ(deliver(*b, *a, 20), 0u);
  EXPECT_EQ(deliver(*a, *c, 20), 20u);
  EXPECT_EQ(deliver(*c, *b, 20), 20u);
  filter->unpartition("tap-a", "tap-b");
  EXPECT_EQ(deliver(*a, *b, 20), 20u);
  EXPECT_EQ(deliver(*b, *a, 20), 20u);
}

TEST_F(BridgeFilterTest, AnIsolatedPortReachesNobodyAndNobodyReachesIt) {
  filter->isolate("tap-a");
  EXPECT_TRUE(filter->rules().isolated("tap-a"));
  EXPECT_EQ(deliver(*a, *b, 20), 0u);
  EXPECT_EQ(deliver(*a, *c, 20), 0u);
  EXPECT_EQ(deliver(*b, *a, 20), 0u);
  EXPECT_EQ(deliver(*c, *a, 20), 0u);
  // The others still talk.
  EXPECT_EQ(deliver(*b, *c, 20), 20u);
  EXPECT_EQ(deliver(*c, *b, 20), 20u);
  filter->unisolate("tap-a");
  EXPECT_EQ(deliver(*a, *b, 20), 20u);
  EXPECT_EQ(deliver(*c, *a, 20), 20u);
}

// 2000 frames in batches (a TAP's queue holds 500); with 30 % loss about
// 1400 arrive: the standard deviation is about 20 frames, the bounds are
// ten times that.
TEST_F(BridgeFilterTest, LossDropsAboutTheAskedFractionInItsScopeOnly) {
  filter->set_loss({.from = "tap-a", .to = "tap-b"}, 30);
  std::size_t received = 0;
  for (int batch = 0; batch < 10; ++batch) received += deliver(*a, *b, 200);
  EXPECT_GT(received, 1200u);
  EXPECT_LT(received, 1600u);
  EXPECT_EQ(deliver(*b, *a, 200), 200u);
  EXPECT_EQ(deliver(*c, *b, 200), 200u);
  filter->set_loss({.from = "tap-a", .to = "tap-b"}, 0);
  EXPECT_EQ(deliver(*a, *b, 200), 200u);
}

TEST_F(BridgeFilterTest, WholeBridgeLossAppliesToEveryPair) {
  filter->set_loss({}, 50);
  std::size_t a_to_b = 0;
  std::size_t c_to_a = 0;
  for (int batch = 0; batch < 5; ++batch) {
    a_to_b += deliver(*a, *b, 200);
    c_to_a += deliver(*c, *a, 200);
  }
  EXPECT_GT(a_to_b, 300u);
  EXPECT_LT(a_to_b, 700u);
  EXPECT_GT(c_to_a, 300u);
  EXPECT_LT(c_to_a, 700u);
  filter->clear();
  EXPECT_TRUE(filter->rules().empty());
  EXPECT_EQ(deliver(*a, *b, 200), 200u);
}

TEST_F(BridgeFilterTest, RefusedInputChangesNothing) {
  filter->block("tap-a", "tap-b");
  EXPECT_THROW(filter->block("tap-a", "tap-a"), std::invalid_argument);
  EXPECT_THROW(filter->set_loss({.from = "tap-a"}, 200), std::invalid_argument);
  EXPECT_TRUE(filter->rules().blocked("tap-a", "tap-b"));
  EXPECT_EQ(filter->rules().loss({.from = "tap-a"}), 0);
  EXPECT_EQ(deliver(*a, *b, 20), 0u);
  EXPECT_EQ(deliver(*b, *a, 20), 20u);
}

TEST_F(BridgeFilterTest, DestroyingTheFilterRemovesItsRules) {
  filter->partition("tap-a", "tap-b");
  filter->isolate("tap-c");
  EXPECT_EQ(deliver(*a, *b, 20), 0u);
  EXPECT_EQ(deliver(*a, *c, 20), 0u);
  filter.reset();
  EXPECT_EQ(deliver(*a, *b, 20), 20u);
  EXPECT_EQ(deliver(*b, *a, 20), 20u);
  EXPECT_EQ(deliver(*a, *c, 20), 20u);
}

}  // namespace
}  // namespace provium::netsetup
