#include "test_frame.h"

#include <algorithm>
#include <cstring>

namespace provium::netsetup::testing {
namespace {

constexpr std::uint8_t kEtherType[2] = {0x88, 0xb5};
constexpr std::uint8_t kMagic[4] = {'P', 'R', 'V', 'M'};
constexpr std::size_t kHeaderSize = 6 + 6 + 2 + 4 + 1 + 4;

}  // namespace

Mac endpoint_mac(std::uint8_t id) { return {0x02, 0, 0, 0, 0, id}; }

std::vector<std::uint8_t> encode_frame(const TestFrame& frame, std::size_t size) {
  std::vector<std::uint8_t> bytes(std::max<std::size_t>(size, 60), 0);
  const Mac to = endpoint_mac(frame.to);
  const Mac from = endpoint_mac(frame.from);
  std::copy(to.begin(), to.end(), bytes.begin());
  std::copy(from.begin(), from.end(), bytes.begin() + 6);
  std::memcpy(&bytes[12], kEtherType, 2);
  std::memcpy(&bytes[14], kMagic, 4);
  bytes[18] = static_cast<std::uint8_t>(frame.kind);
  for (int i = 0; i < 4; ++i) bytes[19 + i] = static_cast<std::uint8_t>(frame.sequence >> (8 * (3 - i)));
  return bytes;
}

std::optional<TestFrame> decode_frame(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kHeaderSize) return std::nullopt;
  if (std::memcmp(&bytes[12], kEtherType, 2) != 0 || std::memcmp(&bytes[14], kMagic, 4) != 0) return std::nullopt;
  const Mac to = endpoint_mac(bytes[5]);
  const Mac from = endpoint_mac(bytes[11]);
  if (!std::equal(to.begin(), to.end(), bytes.begin()) || !std::equal(from.begin(), from.end(), bytes.begin() + 6)) {
    return std::nullopt;
  }
  TestFrame frame{.from = bytes[11], .to = bytes[5], .kind = static_cast<FrameKind>(bytes[18])};
  for (int i = 0; i < 4; ++i) frame.sequence = (frame.sequence << 8) | bytes[19 + i];
  return frame;
}

}  // namespace provium::netsetup::testing
