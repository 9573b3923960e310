// The nftables script for a bridge's filter: what each rule becomes, that
// removing a rule leaves it out, and that bad input is refused up front.
#include "bridge_filter_rules.h"

#include <stdexcept>

#include <gtest/gtest.h>

namespace provium::netsetup {
namespace {

constexpr const char* kReplace = "add table bridge t\ndelete table bridge t\n";

std::string table_with(const std::string& rules) {
  return std::string(kReplace) +
         "table bridge t {\n  chain forward {\n    type filter hook forward priority 0; policy accept;\n" + rules +
         "  }\n}\n";
}

TEST(BridgeFilterRules, NoRulesMeansNoTable) {
  BridgeFilterRules rules("t");
  EXPECT_TRUE(rules.empty());
  EXPECT_EQ(rules.render(), kReplace);
}

TEST(BridgeFilterRules, ABlockDropsOneDirection) {
  BridgeFilterRules rules("t");
  EXPECT_TRUE(rules.add_block("tap-a", "tap-b"));
  EXPECT_FALSE(rules.add_block("tap-a", "tap-b"));  // already there
  EXPECT_TRUE(rules.blocked("tap-a", "tap-b"));
  EXPECT_FALSE(rules.blocked("tap-b", "tap-a"));
  EXPECT_EQ(rules.render(), table_with("    iifname \"tap-a\" oifname \"tap-b\" drop\n"));
  EXPECT_TRUE(rules.remove_block("tap-a", "tap-b"));
  EXPECT_FALSE(rules.remove_block("tap-a", "tap-b"));
  EXPECT_EQ(rules.render(), kReplace);
}

TEST(BridgeFilterRules, IsolationDropsBothWaysOfOnePort) {
  BridgeFilterRules rules("t");
  EXPECT_TRUE(rules.add_isolation("tap-a"));
  EXPECT_TRUE(rules.isolated("tap-a"));
  EXPECT_EQ(rules.render(), table_with("    iifname \"tap-a\" drop\n    oifname \"tap-a\" drop\n"));
  EXPECT_TRUE(rules.remove_isolation("tap-a"));
  EXPECT_TRUE(rules.empty());
}

TEST(BridgeFilterRules, LossUsesRandomNumbersInBasisPoints) {
  BridgeFilterRules rules("t");
  EXPECT_TRUE(rules.set_ports({"tap-a", "tap-b", "tap-c"}));
  EXPECT_TRUE(rules.set_loss({.from = "tap-a", .to = "tap-b"}, 12.5));
  EXPECT_TRUE(rules.set_loss({}, 30));
  EXPECT_TRUE(rules.set_loss({.to = "tap-c"}, 100));
  EXPECT_DOUBLE_EQ(rules.loss({.from = "tap-a", .to = "tap-b"}), 12.5);
  EXPECT_DOUBLE_EQ(rules.loss({.from = "tap-b"}), 0);
  EXPECT_EQ(rules.render(), table_with("    iifname { \"tap-a\", \"tap-b\", \"tap-c\" } numgen random mod 10000 < 3000 drop\n"
                                       "    oifname \"tap-c\" drop\n"
                                       "    iifname \"tap-a\" oifname \"tap-b\" numgen random mod 10000 < 1250 drop\n"));
  EXPECT_FALSE(rules.set_loss({}, 30));  // unchanged
  EXPECT_TRUE(rules.set_loss({}, 0));    // removed
  EXPECT_DOUBLE_EQ(rules.loss({}), 0);
}

TEST(BridgeFilterRules, WholeBridgeLossFollowsThePorts) {
  BridgeFilterRules rules("t");
  EXPECT_TRUE(rules.set_loss({}, 10));
  EXPECT_FALSE(rules.empty());
  EXPECT_EQ(rules.render(), table_with(""));  // no ports, nothing to drop yet
  EXPECT_TRUE(rules.set_ports({"tap-a"}));
  EXPECT_FALSE(rules.set_ports({"tap-a"}));
  EXPECT_EQ(rules.render(), table_with("    iifname { \"tap-a\" } numgen random mod 10000 < 1000 drop\n"));
  EXPECT_THROW(rules.set_ports({"bad name"}), std::invalid_argument);
}

TEST(BridgeFilterRules, DropsComeBeforeLoss) {
  BridgeFilterRules rules("t");
  rules.set_loss({.from = "tap-a"}, 50);
  rules.add_block("tap-b", "tap-c");
  rules.add_isolation("tap-d");
  EXPECT_EQ(rules.render(), table_with("    iifname \"tap-d\" drop\n    oifname \"tap-d\" drop\n"
                                       "    iifname \"tap-b\" oifname \"tap-c\" drop\n"
                                       "    iifname \"tap-a\" numgen random mod 10000 < 5000 drop\n"));
  EXPECT_TRUE(rules.clear());
  EXPECT_FALSE(rules.clear());
  EXPECT_EQ(rules.render(), kReplace);
}

TEST(BridgeFilterRules, BadInputIsRefusedWithTheReason) {
  BridgeFilterRules rules("t");
  const auto message = [](auto&& call) -> std::string {
    try {
      call();
    } catch (const std::invalid_argument& error) {
      return error.what();
    }
    return "";
  };
  EXPECT_EQ(message([&] { rules.add_block("tap-a", "tap-a"); }), "partition: `tap-a` cannot be cut off from itself");
  EXPECT_EQ(message([&] { rules.add_block("tap a", "tap-b"); }),
            "partition: `from` port `tap a` has a character outside [A-Za-z0-9_.-]: byte 0x20");
  EXPECT_EQ(message([&] { rules.set_loss({}, 101); }), "loss: rate must be a percentage in [0, 100], got 101");
  EXPECT_EQ(message([&] { rules.set_loss({}, -1); }), "loss: rate must be a percentage in [0, 100], got -1");
  EXPECT_EQ(message([] { BridgeFilterRules("bad-name"); }),
            "bridge filter: `bad-name` is not a usable nftables table name");
  EXPECT_TRUE(rules.empty());
}

}  // namespace
}  // namespace provium::netsetup
