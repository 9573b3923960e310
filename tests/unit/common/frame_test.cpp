#include "frame.h"
#include "agent.capnp.h"

#include <gtest/gtest.h>

#include <capnp/message.h>

#include <stdexcept>

namespace agent = provium::wire::agent;
using provium::frame::Decoder;

namespace {
std::vector<std::byte> ping_frame(std::uint64_t id) {
  capnp::MallocMessageBuilder message;
  auto request = message.initRoot<agent::Request>();
  request.setId(id);
  request.setPing();
  return provium::frame::encode(message);
}
}  // namespace

TEST(Frame, RoundTripsAcrossArbitrarySplits) {
  auto a = ping_frame(7);
  auto b = ping_frame(8);
  std::vector<std::byte> stream(a);
  stream.insert(stream.end(), b.begin(), b.end());
  Decoder decoder;
  std::vector<std::uint64_t> ids;
  for (std::byte byte : stream) {
    decoder.feed(&byte, 1);
    while (auto body = decoder.next()) {
      capnp::FlatArrayMessageReader reader(*body, provium::frame::reader_options());
      auto request = reader.getRoot<agent::Request>();
      EXPECT_TRUE(request.isPing());
      ids.push_back(request.getId());
    }
  }
  EXPECT_EQ(ids, (std::vector<std::uint64_t>{7, 8}));
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(Frame, RefusesOversizedAnnouncements) {
  Decoder decoder;
  const std::byte header[4] = {std::byte{0xff}, std::byte{0xff}, std::byte{0xff}, std::byte{0x7f}};
  decoder.feed(header, 4);
  EXPECT_THROW(decoder.next(), std::runtime_error);
}

TEST(Frame, RefusesRaggedLengths) {
  Decoder decoder;
  const std::byte header[4] = {std::byte{5}, std::byte{0}, std::byte{0}, std::byte{0}};
  decoder.feed(header, 4);
  EXPECT_THROW(decoder.next(), std::runtime_error);
}
