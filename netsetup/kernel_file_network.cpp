#include "kernel_file_network.h"

#include <fcntl.h>
#include <sys/capability.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "bandwidth_limit.h"
#include "bridge.h"
#include "bridge_filter.h"
#include "capture_pump.h"
#include "datapath_support.h"
#include "ipv4_address.h"
#include "link.h"
#include "netem_support.h"
#include "packet_capture.h"
#include "tap_device.h"
#include "uplink.h"

namespace provium::net {
namespace {

namespace ns = provium::netsetup;

constexpr std::uint64_t kMinBandwidth = 1000;
constexpr std::uint64_t kMaxBandwidth = 17'179'869'176;  // tbf's 32-bit byte rate, in bits

bool has_cap_net_admin() {
  cap_t caps = cap_get_proc();
  if (caps == nullptr) return false;
  cap_flag_value_t value = CAP_CLEAR;
  const bool read = cap_get_flag(caps, CAP_NET_ADMIN, CAP_EFFECTIVE, &value) == 0;
  cap_free(caps);
  return read && value == CAP_SET;
}

std::string cidr(std::uint32_t address, std::uint8_t prefix_length) {
  return fmt::format("{}/{}", ns::ipv4_text(address), prefix_length);
}

// What a policy asks of the attached ports of one bridge, in interface names.
struct Realization {
  std::set<std::pair<std::string, std::string>> blocked;
  std::set<std::string> isolated;
  std::map<std::pair<std::string, std::string>, double> loss_percent;  // (from, to)
  std::map<std::string, std::uint64_t> bandwidth;                       // destination TAP -> bit/s
};

}  // namespace

bool kernel_datapath_usable(std::string* why_not) {
  const ns::DatapathSupport support = ns::detect_datapath_support();
  std::optional<std::string> reason = support.unavailable_reason();
  if (!reason && !support.available(ns::feature::nftables_bridge)) {
    reason = "kernel datapath unavailable: " + *support.feature_unavailable_reason(ns::feature::nftables_bridge);
  }
  if (reason && why_not != nullptr) *why_not = *reason;
  return !reason;
}

struct KernelFileNetwork::State {
  struct BridgeState {
    std::string interface;
    BridgeSubnet subnet;
    ns::Bridge bridge;
    ns::BridgeFilter filter;
    std::map<std::string, std::size_t> members;  // vm -> slot
    BridgePolicy policy;
    std::map<std::string, ns::BandwidthLimit> limits;  // TAP -> its shaper
    bool uplink = false;
    // Last: the pumps stop (and their threads join) before anything they read goes.
    std::vector<std::unique_ptr<ns::CapturePump>> captures;
  };

  explicit State(ns::NetNamespace made) : netns(std::move(made)) {}

  ns::NetNamespace netns;
  std::optional<std::string> netem_missing;
  std::map<std::string, int> vm_numbers;  // stable across release and provision
  std::map<std::string, std::vector<ns::TapDevice>> slots;
  std::map<std::string, std::unique_ptr<BridgeState>> bridges;
  std::optional<ns::Uplink> uplink;  // shared by every bridge with an uplink

  BridgeState& bridge(const std::string& name, const char* method) {
    const auto found = bridges.find(name);
    if (found == bridges.end()) throw NetworkError(fmt::format("{}: no bridge `{}`", method, name));
    return *found->second;
  }

  std::string tap_name(const std::string& vm, std::size_t slot) const {
    return fmt::format("t{}s{}", vm_numbers.at(vm), slot);
  }

  Realization realization_of(const BridgeState& bridge, const BridgePolicy& policy) const;
  void realize(BridgeState& bridge, const BridgePolicy& policy);
  void set_uplink_bridges();
};

Realization KernelFileNetwork::State::realization_of(const BridgeState& bridge, const BridgePolicy& policy) const {
  // Latency first: nothing is touched when it cannot be had.
  const auto wants_delay = [](const Impairments& i) { return i.latency.has_value() || i.jitter.has_value(); };
  bool delay = wants_delay(policy.whole);
  for (const auto& [pair, impairments] : policy.pairs) delay = delay || wants_delay(impairments);
  if (delay) {
    if (netem_missing) {
      throw NetworkError(fmt::format(
          "latency and jitter need the kernel's sch_netem, which this host does not have ({})", *netem_missing));
    }
    throw NetworkError("latency and jitter are not implemented on the kernel datapath yet (sch_netem is present)");
  }
  const auto check = [](const Impairments& i, const std::string& where) {
    if (i.loss && (!std::isfinite(*i.loss) || *i.loss < 0 || *i.loss > 1)) {
      throw NetworkError(fmt::format("loss {} on {}: must be a fraction in [0, 1]", *i.loss, where));
    }
    if (i.bandwidth_bps && (*i.bandwidth_bps < kMinBandwidth || *i.bandwidth_bps > kMaxBandwidth)) {
      throw NetworkError(fmt::format("bandwidth {} bit/s on {}: must be {} to {} bit/s", *i.bandwidth_bps, where,
                                     kMinBandwidth, kMaxBandwidth));
    }
  };
  check(policy.whole, "the whole bridge");
  for (const auto& [pair, impairments] : policy.pairs) check(impairments, pair.first + " -> " + pair.second);

  // Only attached VMs have ports; the rest is realized when they attach.
  const auto port = [&](const std::string& vm) -> std::optional<std::string> {
    const auto found = bridge.members.find(vm);
    if (found == bridge.members.end()) return std::nullopt;
    return tap_name(vm, found->second);
  };
  Realization out;
  for (const auto& [from, to] : policy.blocked) {
    const auto a = port(from), b = port(to);
    if (a && b && *a != *b) out.blocked.emplace(*a, *b);
  }
  for (const auto& vm : policy.isolated) {
    if (const auto p = port(vm)) out.isolated.insert(*p);
  }
  // Per ordered pair, so a pair's own value replaces the whole bridge's.
  for (const auto& [to_vm, to_slot] : bridge.members) {
    std::optional<std::uint64_t> rate;  // the destination TAP's: the highest any sender may use
    for (const auto& [from_vm, from_slot] : bridge.members) {
      if (from_vm == to_vm) continue;
      const auto pair = policy.pairs.find({from_vm, to_vm});
      const Impairments* own = pair == policy.pairs.end() ? nullptr : &pair->second;
      const auto loss = own && own->loss ? own->loss : policy.whole.loss;
      if (loss && *loss > 0) {
        out.loss_percent[{tap_name(from_vm, from_slot), tap_name(to_vm, to_slot)}] = *loss * 100;
      }
      const auto bandwidth = own && own->bandwidth_bps ? own->bandwidth_bps : policy.whole.bandwidth_bps;
      if (bandwidth) rate = std::max(rate.value_or(0), *bandwidth);
    }
    if (rate) out.bandwidth[tap_name(to_vm, to_slot)] = *rate;
  }
  return out;
}

void KernelFileNetwork::State::realize(BridgeState& bridge, const BridgePolicy& policy) {
  const Realization target = realization_of(bridge, policy);
  bridge.filter.replace([&](ns::BridgeFilterRules& rules) {
    for (const auto& [from, to] : target.blocked) rules.add_block(from, to);
    for (const auto& port : target.isolated) rules.add_isolation(port);
    for (const auto& [pair, percent] : target.loss_percent) {
      rules.set_loss({.from = pair.first, .to = pair.second}, percent);
    }
  });
  for (auto it = bridge.limits.begin(); it != bridge.limits.end();) {
    it = target.bandwidth.contains(it->first) ? std::next(it) : bridge.limits.erase(it);
  }
  for (const auto& [tap, rate] : target.bandwidth) {
    const auto found = bridge.limits.find(tap);
    if (found == bridge.limits.end()) {
      bridge.limits.emplace(tap, ns::BandwidthLimit::install(netns, tap, rate));
    } else if (found->second.bits_per_second() != rate) {
      found->second.set_rate(rate);
    }
  }
}

void KernelFileNetwork::State::set_uplink_bridges() {
  std::set<std::string> interfaces;
  for (const auto& [name, bridge] : bridges) {
    if (bridge->uplink) interfaces.insert(bridge->interface);
  }
  if (interfaces.empty()) {
    uplink.reset();
    return;
  }
  if (!uplink) uplink.emplace(ns::Uplink::create(netns));
  uplink->set_bridges(interfaces);
}

KernelFileNetwork::KernelFileNetwork(std::uint64_t seed) : seed_(seed) {
  if (!has_cap_net_admin()) {
    throw NetworkError(
        "kernel datapath: this process lacks CAP_NET_ADMIN (run provium as root, or use the user datapath)");
  }
  try {
    state_ = std::make_unique<State>(ns::NetNamespace::create());
    state_->netem_missing = ns::netem_missing_reason(state_->netns);
  } catch (const std::exception& error) {
    throw NetworkError(fmt::format("kernel datapath: cannot make the file's network namespace: {}", error.what()));
  }
}

KernelFileNetwork::~KernelFileNetwork() {
  // Captures and shapers before the links they refer to, the uplink's table
  // before its veth; the namespace goes with the last handle.
  for (auto& [name, bridge] : state_->bridges) bridge->captures.clear();
  state_->bridges.clear();
  state_->uplink.reset();
  state_->slots.clear();
}

const netsetup::NetNamespace& KernelFileNetwork::network_namespace() const { return state_->netns; }

std::string KernelFileNetwork::bridge_interface(const std::string& bridge) const {
  return state_->bridge(bridge, "bridge_interface").interface;
}

std::string KernelFileNetwork::tap_interface(const std::string& vm, std::size_t slot) const {
  if (!state_->vm_numbers.contains(vm)) throw NetworkError(fmt::format("tap_interface: no VM `{}`", vm));
  return state_->tap_name(vm, slot);
}

std::vector<GuestNicBackend> KernelFileNetwork::provision(const std::string& vm, std::size_t slots) {
  if (state_->slots.contains(vm)) throw NetworkError(fmt::format("provision: `{}` has NIC slots already", vm));
  state_->vm_numbers.try_emplace(vm, static_cast<int>(state_->vm_numbers.size()));
  std::vector<ns::TapDevice> taps;
  std::vector<GuestNicBackend> backends;
  try {
    for (std::size_t slot = 0; slot < slots; ++slot) {
      taps.push_back(ns::TapDevice::create_detached(state_->netns, state_->tap_name(vm, slot)));
      // QEMU gets its own description of the queue; ours keeps the TAP until release().
      OwnedFd copy(::fcntl(taps.back().fd(), F_DUPFD_CLOEXEC, 0));
      if (!copy.valid()) throw std::runtime_error(fmt::format("dup TAP fd: {}", strerror(errno)));
      backends.push_back({.kind = GuestNicBackend::Kind::tap, .fd = std::move(copy)});
    }
  } catch (const std::exception& error) {
    // `taps` closes what was made: the TAPs vanish with their last fd.
    throw NetworkError(fmt::format("provision `{}`: {}", vm, error.what()));
  }
  state_->slots.emplace(vm, std::move(taps));
  return backends;
}

void KernelFileNetwork::release(const std::string& vm) {
  const auto found = state_->slots.find(vm);
  if (found == state_->slots.end()) return;
  for (auto& [name, bridge] : state_->bridges) {
    if (bridge->members.erase(vm) == 0) continue;
    try {
      state_->realize(*bridge, bridge->policy);
    } catch (const std::exception&) {
      // Only rules for the leaving ports could have changed; they go with the TAPs.
    }
  }
  // Deleted now, not when QEMU closes its copy: the name is free for the next boot.
  for (const auto& tap : found->second) {
    try {
      ns::delete_link(state_->netns.route(), tap.name());
    } catch (const std::exception&) {
      // Gone already.
    }
  }
  state_->slots.erase(found);
}

void KernelFileNetwork::add_bridge(const std::string& bridge, const BridgeSubnet& subnet) {
  if (state_->bridges.contains(bridge)) throw NetworkError(fmt::format("add_bridge: `{}` exists already", bridge));
  const std::string interface = fmt::format("br{}", state_->bridges.size());
  try {
    ns::Bridge made = ns::Bridge::create(state_->netns, interface);
    ns::BridgeFilter filter(made);
    state_->bridges.emplace(bridge, std::make_unique<State::BridgeState>(State::BridgeState{
                                        .interface = interface,
                                        .subnet = subnet,
                                        .bridge = std::move(made),
                                        .filter = std::move(filter),
                                    }));
  } catch (const std::exception& error) {
    throw NetworkError(fmt::format("add_bridge `{}`: {}", bridge, error.what()));
  }
}

void KernelFileNetwork::attach(const std::string& bridge_name, const std::string& vm, std::size_t slot) {
  State::BridgeState& bridge = state_->bridge(bridge_name, "attach");
  const auto vm_slots = state_->slots.find(vm);
  if (vm_slots == state_->slots.end()) throw NetworkError(fmt::format("attach: `{}` has no NIC slots", vm));
  if (slot >= vm_slots->second.size()) {
    throw NetworkError(fmt::format("attach: `{}` has {} NIC slots, no slot {}", vm, vm_slots->second.size(), slot));
  }
  if (bridge.members.contains(vm)) {
    throw NetworkError(fmt::format("attach: `{}` is on bridge `{}` already", vm, bridge_name));
  }
  const std::string tap = state_->tap_name(vm, slot);
  for (const auto& [other_name, other] : state_->bridges) {
    const auto member = other->members.find(vm);
    if (member != other->members.end() && member->second == slot) {
      throw NetworkError(fmt::format("attach: slot {} of `{}` is on bridge `{}` already", slot, vm, other_name));
    }
  }
  try {
    ns::set_link_master(state_->netns.route(), tap, bridge.bridge.ifindex());
    bridge.members.emplace(vm, slot);
    // The policy covers the new port before it carries a frame.
    state_->realize(bridge, bridge.policy);
    ns::set_link_up(state_->netns.route(), tap, true);
  } catch (const std::exception& error) {
    bridge.members.erase(vm);
    try {
      ns::set_link_master(state_->netns.route(), tap, 0);
      state_->realize(bridge, bridge.policy);
    } catch (const std::exception&) {
      // Best effort: the TAP is down, so nothing crosses it.
    }
    throw NetworkError(fmt::format("attach `{}` to `{}`: {}", vm, bridge_name, error.what()));
  }
}

void KernelFileNetwork::detach(const std::string& bridge_name, const std::string& vm) {
  State::BridgeState& bridge = state_->bridge(bridge_name, "detach");
  const auto member = bridge.members.find(vm);
  if (member == bridge.members.end()) {
    throw NetworkError(fmt::format("detach: `{}` is not on bridge `{}`", vm, bridge_name));
  }
  const std::string tap = state_->tap_name(vm, member->second);
  bridge.members.erase(member);
  try {
    ns::set_link_up(state_->netns.route(), tap, false);
    ns::set_link_master(state_->netns.route(), tap, 0);
    state_->realize(bridge, bridge.policy);
  } catch (const std::exception& error) {
    throw NetworkError(fmt::format("detach `{}` from `{}`: {}", vm, bridge_name, error.what()));
  }
}

void KernelFileNetwork::apply(const std::string& bridge_name, const BridgePolicy& policy) {
  State::BridgeState& bridge = state_->bridge(bridge_name, "apply");
  try {
    state_->realize(bridge, policy);
  } catch (const std::exception& error) {
    // Put back whatever part of the new policy got in (the filter swaps
    // atomically, so only shapers can be half-way).
    try {
      state_->realize(bridge, bridge.policy);
    } catch (const std::exception&) {
      // The previous policy was realized before; what failed now was new.
    }
    throw NetworkError(fmt::format("apply `{}`: {}", bridge_name, error.what()));
  }
  bridge.policy = policy;
}

NicCounters KernelFileNetwork::counters(const std::string& bridge_name, const std::string& vm) const {
  const State::BridgeState& bridge = state_->bridge(bridge_name, "counters");
  const auto member = bridge.members.find(vm);
  if (member == bridge.members.end()) {
    throw NetworkError(fmt::format("counters: `{}` is not on bridge `{}`", vm, bridge_name));
  }
  const std::string tap = state_->tap_name(vm, member->second);
  try {
    const ns::LinkCounters link = ns::link_counters(state_->netns.route(), tap);
    // The TAP's transmit side is what the guest received, and the other way round.
    return {.rx_bytes = link.tx_bytes,
            .tx_bytes = link.rx_bytes,
            .rx_packets = link.tx_packets,
            .tx_packets = link.rx_packets,
            .errors = link.rx_errors + link.tx_errors};
  } catch (const std::exception& error) {
    throw NetworkError(fmt::format("counters `{}` on `{}`: {}", vm, bridge_name, error.what()));
  }
}

OwnedFd KernelFileNetwork::capture(const std::string& bridge_name, const std::optional<std::string>& vm) {
  State::BridgeState& bridge = state_->bridge(bridge_name, "capture");
  std::string link = bridge.interface;
  if (vm) {
    const auto member = bridge.members.find(*vm);
    if (member == bridge.members.end()) {
      throw NetworkError(fmt::format("capture: `{}` is not on bridge `{}`", *vm, bridge_name));
    }
    link = state_->tap_name(*vm, member->second);
  }
  std::erase_if(bridge.captures, [](const auto& pump) { return pump->finished(); });
  try {
    OwnedFd reader;
    bridge.captures.push_back(ns::CapturePump::start(ns::PacketCapture::open(state_->netns, link), reader));
    return reader;
  } catch (const std::exception& error) {
    throw NetworkError(fmt::format("capture on `{}`: {}", bridge_name, error.what()));
  }
}

UplinkInfo KernelFileNetwork::enable_uplink(const std::string& bridge_name) {
  State::BridgeState& bridge = state_->bridge(bridge_name, "enable_uplink");
  if (bridge.subnet.gateway == 0) {
    throw NetworkError(fmt::format("enable_uplink: bridge `{}` has no gateway address", bridge_name));
  }
  if (!bridge.uplink) {
    const std::string gateway = cidr(bridge.subnet.gateway, bridge.subnet.prefix_length);
    try {
      ns::add_ipv4_address(state_->netns.route(), bridge.interface, gateway);
      bridge.uplink = true;
      state_->set_uplink_bridges();
    } catch (const std::exception& error) {
      if (bridge.uplink) {
        bridge.uplink = false;
        try {
          ns::remove_ipv4_address(state_->netns.route(), bridge.interface, gateway);
          state_->set_uplink_bridges();
        } catch (const std::exception&) {
          // The address alone reaches nothing without the uplink's forwarding.
        }
      }
      throw NetworkError(fmt::format("enable_uplink `{}`: {}", bridge_name, error.what()));
    }
  }
  return {.gateway = bridge.subnet.gateway, .host_address = state_->uplink->host_address()};
}

void KernelFileNetwork::disable_uplink(const std::string& bridge_name) {
  State::BridgeState& bridge = state_->bridge(bridge_name, "disable_uplink");
  if (!bridge.uplink) return;
  bridge.uplink = false;
  try {
    ns::remove_ipv4_address(state_->netns.route(), bridge.interface,
                            cidr(bridge.subnet.gateway, bridge.subnet.prefix_length));
    state_->set_uplink_bridges();
  } catch (const std::exception& error) {
    throw NetworkError(fmt::format("disable_uplink `{}`: {}", bridge_name, error.what()));
  }
}

}  // namespace provium::net
