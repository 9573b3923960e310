// Capture on a bridge and on a TAP into pcap files, read back independently.
#include "packet_capture.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "datapath_support.h"
#include "kernel_fixture.h"
#include "pcap_file.h"

namespace provium::netsetup {
namespace {

using testing::FrameKind;
using testing::ThreePortBridge;

class PacketCaptureTest : public ThreePortBridge {
 protected:
  void SetUp() override {
    ThreePortBridge::SetUp();
    if (IsSkipped()) return;
    if (auto why = testing::feature_missing(feature::cap_net_raw)) GTEST_SKIP() << *why;
    char pattern[] = "/tmp/provium-capture-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    directory_ = pattern;
  }
  void TearDown() override {
    if (!directory_.empty()) std::filesystem::remove_all(directory_);
  }

  PcapWriter writer(const std::string& name) {
    const auto path = directory_ / name;
    return PcapWriter(kj::AutoCloseFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)), 65535);
  }

  // Drains `capture` until it has written a data frame a -> b numbered
  // `last`, waiting for the socket with a generous deadline.
  void drain_through(PacketCapture& capture, PcapWriter& out, const std::filesystem::path& file,
                     std::uint32_t last) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      capture.drain(out);
      for (const auto& record : testing::read_pcap(file).records) {
        const auto frame = testing::decode_frame(record.bytes);
        if (frame && frame->from == a->id() && frame->kind == FrameKind::data && frame->sequence == last) return;
      }
      pollfd readable{.fd = capture.fd(), .events = POLLIN};
      ::poll(&readable, 1, 100);
    }
    ADD_FAILURE() << "frame " << last << " never reached the capture on " << capture.link_name();
  }

  // The data frames a -> b in `file`, in order.
  std::vector<std::uint32_t> sequences_in(const std::filesystem::path& file) {
    std::vector<std::uint32_t> sequences;
    for (const auto& record : testing::read_pcap(file).records) {
      const auto frame = testing::decode_frame(record.bytes);
      if (!frame || frame->from != a->id() || frame->to != b->id() || frame->kind != FrameKind::data) continue;
      EXPECT_EQ(record.bytes.size(), 200u);
      EXPECT_EQ(record.original_length, 200u);
      sequences.push_back(frame->sequence);
    }
    return sequences;
  }

  std::filesystem::path directory_;
};

TEST_F(PacketCaptureTest, ABridgeAndATapCaptureWriteStandardPcap) {
  PacketCapture on_bridge = PacketCapture::open(*ns, "lan");
  PacketCapture on_tap = PacketCapture::open(*ns, "tap-b");
  PcapWriter bridge_out = writer("lan.pcap");
  PcapWriter tap_out = writer("tap-b.pcap");

  ASSERT_EQ(deliver(*a, *b, 5, 200), 5u);
  drain_through(on_bridge, bridge_out, directory_ / "lan.pcap", 4);
  drain_through(on_tap, tap_out, directory_ / "tap-b.pcap", 4);

  for (const auto* name : {"lan.pcap", "tap-b.pcap"}) {
    const auto file = testing::read_pcap(directory_ / name);
    EXPECT_EQ(file.magic, 0xa1b2c3d4u) << name;
    EXPECT_EQ(file.version_major, 2) << name;
    EXPECT_EQ(file.version_minor, 4) << name;
    EXPECT_EQ(file.link_type, 1u) << name;
    EXPECT_EQ(file.snap_length, 65535u) << name;
    EXPECT_EQ(sequences_in(directory_ / name), (std::vector<std::uint32_t>{0, 1, 2, 3, 4})) << name;
    ASSERT_FALSE(file.records.empty());
    EXPECT_GT(file.records.front().seconds, 1'600'000'000u) << name << ": a real timestamp";
  }
  EXPECT_EQ(on_bridge.dropped(), 0u);
}

TEST_F(PacketCaptureTest, ACaptureOnAMissingLinkNamesIt) {
  try {
    PacketCapture::open(*ns, "nope");
    ADD_FAILURE() << "opened a capture on a missing link";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "link `nope`: no such interface");
  }
}

}  // namespace
}  // namespace provium::netsetup
