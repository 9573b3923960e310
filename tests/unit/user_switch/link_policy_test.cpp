#include "link_policy.h"

#include <gtest/gtest.h>

namespace provium::net {
namespace {

using std::chrono::microseconds;

TEST(LinkPolicy, APlainSwitchPassesEverything) {
  const LinkPolicy policy;
  const PairVerdict verdict = policy.verdict(1, 2);
  EXPECT_FALSE(verdict.blocked);
  EXPECT_EQ(verdict.latency, microseconds(0));
  EXPECT_EQ(verdict.loss, 0);
  EXPECT_EQ(verdict.bandwidth_bps, 0u);
}

TEST(LinkPolicy, BlocksAreDirectionalAndIsolationCutsBothWays) {
  LinkPolicy policy;
  policy.block(1, 2);
  EXPECT_TRUE(policy.verdict(1, 2).blocked);
  EXPECT_FALSE(policy.verdict(2, 1).blocked);
  policy.isolate(3, true);
  EXPECT_TRUE(policy.verdict(3, 1).blocked);
  EXPECT_TRUE(policy.verdict(2, 3).blocked);
  policy.isolate(3, false);
  EXPECT_FALSE(policy.verdict(2, 3).blocked);
}

TEST(LinkPolicy, APairSettingReplacesTheWholeSwitchValueOfItsKindOnly) {
  LinkPolicy policy;
  policy.whole().latency = microseconds(10'000);
  policy.whole().loss = 0.1;
  policy.whole().bandwidth_bps = 8'000'000;
  policy.pair(1, 2).latency = microseconds(50'000);
  policy.pair(1, 2).bandwidth_bps = 1'000'000;

  const PairVerdict specific = policy.verdict(1, 2);
  EXPECT_EQ(specific.latency, microseconds(50'000));
  EXPECT_EQ(specific.loss, 0.1) << "loss was not set for the pair: the whole-switch value stays";
  EXPECT_EQ(specific.bandwidth_bps, 1'000'000u);
  EXPECT_FALSE(specific.bandwidth_is_whole);

  const PairVerdict other = policy.verdict(2, 1);
  EXPECT_EQ(other.latency, microseconds(10'000));
  EXPECT_EQ(other.bandwidth_bps, 8'000'000u);
  EXPECT_TRUE(other.bandwidth_is_whole);
}

TEST(LinkPolicy, ForgettingAPortDropsItsRulesAndResetDropsAll) {
  LinkPolicy policy;
  policy.block(1, 2);
  policy.block(3, 4);
  policy.isolate(1, true);
  policy.pair(1, 3).loss = 0.5;
  policy.forget(1);
  EXPECT_FALSE(policy.verdict(1, 2).blocked);
  EXPECT_EQ(policy.verdict(1, 3).loss, 0);
  EXPECT_TRUE(policy.verdict(3, 4).blocked);
  policy.whole().latency = microseconds(5);
  policy.reset();
  EXPECT_FALSE(policy.verdict(3, 4).blocked);
  EXPECT_EQ(policy.verdict(3, 4).latency, microseconds(0));
}

}  // namespace
}  // namespace provium::net
