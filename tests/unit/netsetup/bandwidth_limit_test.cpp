// tbf on a TAP: it is installed with the asked rate, it holds a burst back
// and drops what does not fit, and it goes away with its object.
#include "bandwidth_limit.h"

#include <gtest/gtest.h>

#include "kernel_fixture.h"
#include "qdisc_info.h"

namespace provium::netsetup {
namespace {

using testing::ThreePortBridge;

// 100 kbit/s lets about 12 KB a second through, and tbf queues only ~4.5 KB
// beyond its bucket: of 300 back-to-back 1400-byte frames (420 KB) only a
// few get through unless writing them took most of a minute. Without the
// limit all 300 arrive.
TEST_F(ThreePortBridge, ABandwidthLimitHoldsABurstBackAndDropsTheExcess) {
  {
    const BandwidthLimit limit = BandwidthLimit::install(*ns, "tap-b", 100'000);
    const auto installed = root_qdisc(ns->route(), "tap-b");
    ASSERT_TRUE(installed.has_value());
    EXPECT_EQ(installed->kind, "tbf");
    EXPECT_EQ(installed->tbf_rate_bytes_per_second, 12'500u);

    const std::size_t received = deliver(*a, *b, 300, 1400);
    EXPECT_LT(received, 150u);
    EXPECT_GT(root_qdisc(ns->route(), "tap-b")->drops, 0u);
    // Other ports are not limited.
    EXPECT_EQ(deliver(*a, *c, 300, 1400), 300u);
  }
  const auto after = root_qdisc(ns->route(), "tap-b");
  EXPECT_TRUE(!after.has_value() || after->kind != "tbf");
  EXPECT_EQ(deliver(*a, *b, 300, 1400), 300u);
}

TEST_F(ThreePortBridge, ABandwidthLimitChangesRateInPlace) {
  BandwidthLimit limit = BandwidthLimit::install(*ns, "tap-b", 100'000);
  limit.set_rate(8'000'000);
  EXPECT_EQ(limit.bits_per_second(), 8'000'000u);
  EXPECT_EQ(root_qdisc(ns->route(), "tap-b")->tbf_rate_bytes_per_second, 1'000'000u);
}

TEST_F(ThreePortBridge, ABandwidthLimitRefusesABadRateOrLinkByName) {
  try {
    BandwidthLimit::install(*ns, "tap-b", 10);
    ADD_FAILURE() << "10 bit/s accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "bandwidth limit 10 bit/s on `tap-b`: the rate must be 1000 to 17179869176 bit/s");
  }
  try {
    BandwidthLimit::install(*ns, "tap-z", 1'000'000);
    ADD_FAILURE() << "a limit on a missing link";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "link `tap-z`: no such interface");
  }
}

}  // namespace
}  // namespace provium::netsetup
