// A default IPv4 route through a gateway on a link (the file namespace's way
// out through an uplink). It goes away with the link.
#pragma once

#include <string>

#include "route_socket.h"

namespace provium::netsetup {

// `gateway` is "100.64.0.1". Errors name the link and the gateway.
void add_default_route(RouteSocket& route, const std::string& link_name, const std::string& gateway);

}  // namespace provium::netsetup
