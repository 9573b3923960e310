// Just enough of an Ethernet II frame for a learning switch: the two MAC
// addresses at the front. Anything shorter than a header is not a frame.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace provium::net {

using MacAddress = std::array<std::uint8_t, 6>;

inline constexpr std::size_t kEthernetHeaderBytes = 14;

struct EthernetAddresses {
  MacAddress destination;
  MacAddress source;
};

inline std::optional<EthernetAddresses> read_addresses(std::span<const std::uint8_t> frame) {
  if (frame.size() < kEthernetHeaderBytes) return std::nullopt;
  EthernetAddresses addresses{};
  std::copy_n(frame.begin(), 6, addresses.destination.begin());
  std::copy_n(frame.begin() + 6, 6, addresses.source.begin());
  return addresses;
}

// Broadcast and multicast share the group bit: the low bit of the first octet.
inline bool is_group_address(const MacAddress& mac) { return (mac[0] & 1) != 0; }

std::string format_mac(const MacAddress& mac);

}  // namespace provium::net
