// Unit tests of the agent's pieces that need no running agent.
#include "agent.capnp.h"
#include "boot_clock.h"
#include "seeded_rng_sync.h"
#include "frame.h"
#include "outbound_frame.h"
#include "output_capture.h"
#include "process_spawn.h"
#include "responses.h"
#include "worker_credentials.h"

#include <gtest/gtest.h>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <stdexcept>

namespace {

using namespace provium::agent;
namespace wire = provium::wire::agent;

std::vector<std::byte> flatten(OutboundFrame& frame) {
  std::vector<std::byte> out;
  iovec pieces[64];
  while (!frame.finished()) {
    const int count = frame.pending_iovecs(pieces, 64);
    EXPECT_GT(count, 0);
    if (count <= 0) break;
    // Advance in odd-sized steps, as partial writes would.
    const std::size_t step = std::min<std::size_t>(pieces[0].iov_len, 7);
    auto begin = static_cast<const std::byte*>(pieces[0].iov_base);
    out.insert(out.end(), begin, begin + step);
    frame.advance(step);
  }
  return out;
}

std::vector<std::byte> encode_the_usual_way(const std::function<void(capnp::MessageBuilder&)>& fill,
                                            unsigned first_segment_words) {
  capnp::MallocMessageBuilder message(first_segment_words);
  fill(message);
  return provium::frame::encode(message);
}

void expect_same_bytes(const std::function<void(capnp::MessageBuilder&)>& fill, unsigned first_segment_words) {
  auto builder = std::make_unique<capnp::MallocMessageBuilder>(first_segment_words);
  fill(*builder);
  OutboundFrame frame(std::move(builder));
  EXPECT_EQ(flatten(frame), encode_the_usual_way(fill, first_segment_words));
}

TEST(BootClock, InitialTimeFromTheKernelCmdline) {
  using provium::agent::initial_time_from_cmdline;
  EXPECT_EQ(initial_time_from_cmdline("quiet provium.initial_time_ns=1700000000250000000 panic=-1"),
            1700000000250000000);
  EXPECT_EQ(initial_time_from_cmdline("provium.initial_time_ns=0\n"), 0);
  EXPECT_EQ(initial_time_from_cmdline("provium.initial_time_ns=1 provium.initial_time_ns=2"), 2) << "last wins";
  EXPECT_FALSE(initial_time_from_cmdline("quiet console=ttyS0"));
  EXPECT_FALSE(initial_time_from_cmdline(""));
  for (const char* bad : {"provium.initial_time_ns=", "provium.initial_time_ns=-5", "provium.initial_time_ns=12x",
                          "provium.initial_time_ns=99999999999999999999", "provium.initial_time_nsx=5",
                          "xprovium.initial_time_ns=5"}) {
    EXPECT_FALSE(initial_time_from_cmdline(bad)) << bad;
  }
}

// A preamble as the supervisor writes it (supervisor/rng_feeder.cpp).
std::vector<std::byte> rng_preamble(std::size_t length) {
  std::vector<std::byte> out(length);
  for (std::size_t at = 0; at < length; ++at) {
    out[at] = static_cast<std::byte>((kRngPreambleMagic + at / 8) >> (8 * (at % 8)));
  }
  return out;
}

TEST(SeededRngSync, FindsItsPlaceInThePreamble) {
  const auto preamble = rng_preamble(8192);
  for (std::size_t start : {0u, 32u, 64u, 128u, 3u, 4093u, 8192u - 32u}) {
    const auto found = preamble_position(std::span(preamble).subspan(start, 32), 8192);
    ASSERT_TRUE(found) << start;
    EXPECT_EQ(*found, start);
  }
  // Past the preamble's end, or not preamble at all: no place.
  EXPECT_FALSE(preamble_position(std::span(preamble).subspan(8192 - 32, 32), 4096));
  std::vector<std::byte> noise(32, std::byte{0x5a});
  EXPECT_FALSE(preamble_position(noise, 8192));
  EXPECT_FALSE(preamble_position(std::span(preamble).first(15), 8192)) << "needs two whole words";
}

TEST(OutboundFrame, MatchesFrameEncodeForOneSegment) {
  expect_same_bytes([](capnp::MessageBuilder& m) {
    auto response = m.initRoot<wire::Response>();
    response.setId(42);
    response.setPong();
  }, 1024);
}

TEST(OutboundFrame, MatchesFrameEncodeForManySegments) {
  // A tiny first segment forces the blobs into further segments (odd and even counts).
  for (int blobs = 1; blobs <= 4; ++blobs) {
    expect_same_bytes([blobs](capnp::MessageBuilder& m) {
      auto response = m.initRoot<wire::Response>();
      response.setId(7);
      auto run = response.initRun();
      std::vector<kj::byte> data(1000 * static_cast<std::size_t>(blobs), 0x5a);
      run.setStdout(kj::arrayPtr(data.data(), data.size()));
      if (blobs > 1) run.setStderr(kj::arrayPtr(data.data(), data.size() / 2));
    }, 4);
  }
}

TEST(InPlaceDataFrame, SendsOnlyTheBytesUsed) {
  auto frame = InPlaceDataFrame::data_response(9, 1u << 20);
  std::memcpy(frame.buffer(), "ten bytes!", 10);
  OutboundFrame out = frame.finish(10);
  EXPECT_LT(out.total_bytes(), 200u) << "the unused capacity went out too";
  auto bytes = flatten(out);
  provium::frame::Decoder decoder;
  decoder.feed(bytes.data(), bytes.size());
  auto body = decoder.next();
  ASSERT_TRUE(body.has_value());
  capnp::FlatArrayMessageReader reader(*body);
  auto response = reader.getRoot<wire::Response>();
  EXPECT_EQ(response.getId(), 9u);
  ASSERT_TRUE(response.isData());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(response.getData().begin()), response.getData().size()),
            "ten bytes!");
}

TEST(WorkerCredentials, GroupListsRoundTrip) {
  EXPECT_EQ(format_group_list({}), "");
  EXPECT_EQ(format_group_list({1, 20, 300}), "1,20,300");
  EXPECT_EQ(parse_group_list("1,20,300"), (std::vector<gid_t>{1, 20, 300}));
  EXPECT_TRUE(parse_group_list("").empty());
  EXPECT_THROW(parse_group_list("1,x"), std::invalid_argument);
  EXPECT_THROW(parse_group_list("1,,2"), std::invalid_argument);
}

TEST(OutputCapture, KeepsUpToTheLimitAndCountsTheRest) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string payload(1000, 'a');
  ASSERT_EQ(::write(fds[1], payload.data(), payload.size()), 1000);
  ::close(fds[1]);
  OutputCapture capture(300);
  while (capture.read_from(fds[0]) > 0) {
  }
  ::close(fds[0]);
  EXPECT_EQ(capture.bytes().size(), 300u);
  EXPECT_EQ(capture.discarded_bytes(), 700u);
}

TEST(MergeEnvironment, OverridesReplaceInheritedEntries) {
  const char* inherited[] = {"A=1", "B=2", "AB=3", nullptr};
  EXPECT_EQ(merge_environment(inherited, false, {"A=9", "C=4"}),
            (std::vector<std::string>{"B=2", "AB=3", "A=9", "C=4"}));
  EXPECT_EQ(merge_environment(inherited, true, {"C=4"}), (std::vector<std::string>{"C=4"}));
}

}  // namespace
