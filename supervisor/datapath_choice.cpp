#include "datapath_choice.h"

#include "datapath_support.h"
#include "kernel_file_network.h"
#include "user_file_network.h"


namespace provium {

std::optional<NetDatapath> parse_net_datapath(std::string_view text) {
  if (text == "auto") return NetDatapath::automatic;
  if (text == "user") return NetDatapath::user;
  if (text == "kernel") return NetDatapath::kernel;
  return std::nullopt;
}

const char* to_string(NetDatapath datapath) {
  switch (datapath) {
    case NetDatapath::automatic: return "auto";
    case NetDatapath::user: return "user";
    case NetDatapath::kernel: return "kernel";
  }
  return "auto";
}

namespace {

struct AutoChoice {
  NetDatapath datapath = NetDatapath::user;
  std::string reason;
};

// The probe makes throwaway namespaces, so it runs once.
const AutoChoice& auto_choice() {
  static const AutoChoice choice = [] {
    std::string why_not;
    if (!net::kernel_datapath_usable(&why_not)) return AutoChoice{NetDatapath::user, why_not};
    const auto netem = netsetup::detect_datapath_support().feature_unavailable_reason(netsetup::feature::netem);
    if (netem) return AutoChoice{NetDatapath::user, "the kernel datapath could not add latency: " + *netem};
    if (!net::KernelFileNetwork::realizes_latency) {
      return AutoChoice{NetDatapath::user, "the kernel datapath does not realize latency with netem yet"};
    }
    return AutoChoice{NetDatapath::kernel, "this process can run the kernel datapath with every impairment"};
  }();
  return choice;
}

}  // namespace

NetDatapath resolve_net_datapath(NetDatapath wanted) {
  return wanted == NetDatapath::automatic ? auto_choice().datapath : wanted;
}

std::string describe_net_choice(NetDatapath wanted) {
  std::string line = std::string(to_string(resolve_net_datapath(wanted))) + " datapath (--net " + to_string(wanted);
  if (wanted == NetDatapath::automatic) line += ": " + auto_choice().reason;
  return line + ")";
}

std::unique_ptr<net::FileNetwork> make_file_network(NetDatapath datapath) {
  if (resolve_net_datapath(datapath) == NetDatapath::kernel) {
    return std::make_unique<net::KernelFileNetwork>(1);  // the kernel's random loss cannot be seeded
  }
  return std::make_unique<net::UserFileNetwork>();
}

}  // namespace provium
