// The pcap writer against an independent reader.
#include "pcap_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include <gtest/gtest.h>

#include "pcap_file.h"

namespace provium::netsetup {
namespace {

class PcapWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/provium-pcap-XXXXXX";
    const int fd = ::mkstemp(pattern);
    ASSERT_GE(fd, 0);
    ::close(fd);
    path_ = pattern;
  }
  void TearDown() override { std::filesystem::remove(path_); }

  kj::AutoCloseFd open_output() { return kj::AutoCloseFd(::open(path_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC)); }

  std::filesystem::path path_;
};

TEST_F(PcapWriterTest, WritesTheGlobalHeaderAtOnce) {
  { PcapWriter writer(open_output(), 1500); }
  const auto file = testing::read_pcap(path_);
  EXPECT_EQ(std::filesystem::file_size(path_), 24u);
  EXPECT_EQ(file.magic, 0xa1b2c3d4u);
  EXPECT_EQ(file.version_major, 2);
  EXPECT_EQ(file.version_minor, 4);
  EXPECT_EQ(file.snap_length, 1500u);
  EXPECT_EQ(file.link_type, 1u);
  EXPECT_TRUE(file.records.empty());
}

TEST_F(PcapWriterTest, RecordsKeepTimestampsBytesAndTheOriginalLength) {
  {
    PcapWriter writer(open_output(), 64);
    const std::vector<std::uint8_t> small(60, 0xab);
    const std::vector<std::uint8_t> large(100, 0xcd);
    writer.write({.tv_sec = 1700000000, .tv_usec = 123456}, small, 60);
    writer.write({.tv_sec = 1700000001, .tv_usec = 7}, large, 9000);  // cut to the snap length
    EXPECT_EQ(writer.packets_written(), 2u);
  }
  const auto file = testing::read_pcap(path_);
  ASSERT_EQ(file.records.size(), 2u);
  EXPECT_EQ(file.records[0].seconds, 1700000000u);
  EXPECT_EQ(file.records[0].microseconds, 123456u);
  EXPECT_EQ(file.records[0].original_length, 60u);
  EXPECT_EQ(file.records[0].bytes, std::vector<std::uint8_t>(60, 0xab));
  EXPECT_EQ(file.records[1].bytes, std::vector<std::uint8_t>(64, 0xcd));
  EXPECT_EQ(file.records[1].original_length, 9000u);
}

}  // namespace
}  // namespace provium::netsetup
