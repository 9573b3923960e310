// What the root qdisc of a link is and what it has done, read back from the
// kernel (to check a shaper is in place, and to report its drops).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "route_socket.h"

namespace provium::netsetup {

struct RootQdisc {
  std::string kind;  // "tbf", "pfifo_fast", "netem", ...
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::uint64_t drops = 0;
  std::uint64_t tbf_rate_bytes_per_second = 0;  // tbf only
};

// nullopt when the link has no root qdisc of its own (noqueue).
std::optional<RootQdisc> root_qdisc(RouteSocket& route, const std::string& link_name);

}  // namespace provium::netsetup
