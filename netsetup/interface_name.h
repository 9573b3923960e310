// Names of the interfaces netsetup makes (bridges, TAPs, veth ends). They end
// up in nftables scripts and netlink requests, so they are held to a strict
// alphabet rather than everything the kernel would take.
#pragma once

#include <string_view>

namespace provium::netsetup {

// The kernel's IFNAMSIZ less the terminating NUL.
inline constexpr std::size_t kMaxInterfaceName = 15;

// Throws std::invalid_argument naming `what` ("bridge name", ...) and the
// reason unless `name` is 1..15 characters of [A-Za-z0-9_.-], and not "." or "..".
void check_interface_name(std::string_view name, std::string_view what);

}  // namespace provium::netsetup
