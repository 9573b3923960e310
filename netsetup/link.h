// Operations on one link (any kind: bridge, TAP, veth end) by name, through a
// RouteSocket, so they act in that socket's namespace. Errors name the link.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "route_socket.h"

namespace provium::netsetup {

struct LinkState {
  int ifindex = 0;
  bool up = false;          // administratively up (IFF_UP)
  bool lower_up = false;    // carrier (IFF_LOWER_UP): a TAP has it while its fd is open
  int master_ifindex = 0;   // the bridge it is a port of, 0 for none
};

// The kernel's per-interface statistics, from the host's side of the link:
// for a TAP, rx is what the guest sent and tx what it was given.
struct LinkCounters {
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_bytes = 0;
  std::uint64_t rx_packets = 0;
  std::uint64_t tx_packets = 0;
  std::uint64_t rx_errors = 0;
  std::uint64_t tx_errors = 0;
  std::uint64_t rx_dropped = 0;
  std::uint64_t tx_dropped = 0;
};

bool link_exists(RouteSocket& route, const std::string& name);
LinkState link_state(RouteSocket& route, const std::string& name);
LinkCounters link_counters(RouteSocket& route, const std::string& name);

// The names of the links whose master is `bridge_ifindex`.
std::set<std::string> bridge_ports(RouteSocket& route, int bridge_ifindex);

void set_link_up(RouteSocket& route, const std::string& name, bool up);
// Makes `name` a port of the bridge `master_ifindex` (0: of none).
void set_link_master(RouteSocket& route, const std::string& name, int master_ifindex);
void delete_link(RouteSocket& route, const std::string& name);

}  // namespace provium::netsetup
