#include "size.h"

#include <gtest/gtest.h>

#include <stdexcept>

using provium::parse_size;

TEST(Size, AcceptsDocumentedForms) {
  EXPECT_EQ(parse_size("268435456"), 268435456u);
  EXPECT_EQ(parse_size("512M"), 512ull << 20);
  EXPECT_EQ(parse_size("2G"), 2ull << 30);
  EXPECT_EQ(parse_size("1.5G"), 3ull << 29);
  EXPECT_EQ(parse_size("64K"), 64ull << 10);
  EXPECT_EQ(parse_size("1T"), 1ull << 40);
  EXPECT_EQ(parse_size("256MiB"), 256ull << 20);
}

TEST(Size, RejectsBadInput) {
  for (const char* bad : {"", "G", "12Q", "-1M", "nan"}) {
    EXPECT_THROW(parse_size(bad), std::invalid_argument) << bad;
  }
}
