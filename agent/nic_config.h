// Puts IPv4 addresses on the guest NIC with a given hardware address and sets
// its link state, over rtnetlink (libnl-route). The host decides the
// addresses (see docs/networking.md); the agent only applies them.
#pragma once

#include <array>
#include <optional>
#include <cstdint>
#include <string>
#include <vector>

namespace provium::agent {

struct NicSettings {
  std::array<std::uint8_t, 6> mac{};
  std::vector<std::string> ipv4_addresses;  // "a.b.c.d/len"; replace the interface's IPv4 addresses
  bool up = true;
  // When no interface has `mac`: the interface with this address is given `mac`.
  std::optional<std::array<std::uint8_t, 6>> previous_mac;
};

// Throws std::system_error (EINVAL for bad input) naming the interface and
// the step that failed ("configureNic: no interface with address 52:54:...").
void configure_nic(const NicSettings& settings);

}  // namespace provium::agent
