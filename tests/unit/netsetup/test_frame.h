// Ethernet frames the kernel tests send through bridges: a private EtherType
// (0x88b5, for local experiments) and a small header that says who sent the
// frame, whether it is data or a sentinel, and its sequence number. Anything
// else on a link (nothing, normally) is ignored by the receivers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace provium::netsetup::testing {

using Mac = std::array<std::uint8_t, 6>;

// 02:00:00:00:00:<id>, a locally administered unicast address per endpoint.
Mac endpoint_mac(std::uint8_t id);

enum class FrameKind : std::uint8_t { data = 0, sentinel = 1 };

struct TestFrame {
  std::uint8_t from = 0;  // endpoint ids
  std::uint8_t to = 0;
  FrameKind kind = FrameKind::data;
  std::uint32_t sequence = 0;
};

// At least 60 bytes (Ethernet's minimum without the FCS); `size` pads further.
std::vector<std::uint8_t> encode_frame(const TestFrame& frame, std::size_t size = 60);
// nullopt for anything that is not one of ours.
std::optional<TestFrame> decode_frame(std::span<const std::uint8_t> bytes);

}  // namespace provium::netsetup::testing
