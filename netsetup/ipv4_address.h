// Puts an IPv4 address on a link, or takes it off (the host end of a future uplink; the test
// endpoints in tests/unit/netsetup).
#pragma once

#include <string>

#include "route_socket.h"

namespace provium::netsetup {

// `cidr` is "10.0.0.1/24". Errors name the link and the address.
void add_ipv4_address(RouteSocket& route, const std::string& link_name, const std::string& cidr);
// Takes it off again (an uplink's gateway address on a bridge).
void remove_ipv4_address(RouteSocket& route, const std::string& link_name, const std::string& cidr);

}  // namespace provium::netsetup
