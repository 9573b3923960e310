#include "duration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

using provium::Millis;
using provium::parse_duration;

TEST(Duration, AcceptsDocumentedForms) {
  EXPECT_EQ(parse_duration("500ms"), Millis(500));
  EXPECT_EQ(parse_duration("30s"), Millis(30000));
  EXPECT_EQ(parse_duration("10m"), Millis(600000));
  EXPECT_EQ(parse_duration("2h"), Millis(7200000));
  EXPECT_EQ(parse_duration("300"), Millis(300000));
  EXPECT_EQ(parse_duration("1.5"), Millis(1500));
  EXPECT_EQ(parse_duration("0"), Millis(0));
}

TEST(Duration, RejectsBadInputNamingIt) {
  for (const char* bad : {"", "abc", "5x", "-1s", "nan", "10 s", "1e400"}) {
    try {
      parse_duration(bad);
      FAIL() << "accepted " << bad;
    } catch (const std::invalid_argument& error) {
      EXPECT_NE(std::string(error.what()).find(std::string("`") + bad + "`"), std::string::npos) << error.what();
    }
  }
}

TEST(Duration, SecondsRejectNegativeAndNan) {
  EXPECT_THROW(provium::seconds_to_duration(-0.5), std::invalid_argument);
  EXPECT_THROW(provium::seconds_to_duration(std::nan("")), std::invalid_argument);
  EXPECT_EQ(provium::seconds_to_duration(0.25), Millis(250));
}

TEST(Duration, Formats) {
  EXPECT_EQ(provium::format_duration(Millis(250)), "250ms");
  EXPECT_EQ(provium::format_duration(Millis(30000)), "30s");
  EXPECT_EQ(provium::format_duration(Millis(1500)), "1.5s");
}
