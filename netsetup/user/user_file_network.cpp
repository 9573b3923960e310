#include "user_file_network.h"

#include "pcap_pipe_tap.h"

#include <sys/socket.h>

#include <cerrno>
#include <functional>
#include <system_error>

namespace provium::net {
namespace {

// As the switch's own ports: room for a burst from a fast guest.
constexpr int kSocketBufferBytes = 1 << 20;

NicCounters from_port(const PortCounters& port) {
  // The switch counts from its side: what it received is what the guest sent.
  return NicCounters{.rx_bytes = port.tx_bytes,
                     .tx_bytes = port.rx_bytes,
                     .rx_packets = port.tx_frames,
                     .tx_packets = port.rx_frames,
                     .errors = port.dropped};
}

}  // namespace

std::vector<GuestNicBackend> UserFileNetwork::provision(const std::string& vm, std::size_t slots) {
  release(vm);
  std::vector<GuestNicBackend> backends;
  std::vector<Slot> ours;
  for (std::size_t i = 0; i < slots; ++i) {
    int ends[2];
    if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, ends) != 0) {
      throw std::system_error(errno, std::generic_category(), "user network: socketpair for VM " + vm);
    }
    for (int fd : {ends[0], ends[1]}) {
      ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBufferBytes, sizeof kSocketBufferBytes);
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kSocketBufferBytes, sizeof kSocketBufferBytes);
    }
    ours.push_back(Slot{.held = OwnedFd(ends[0])});
    backends.push_back(GuestNicBackend{.kind = GuestNicBackend::Kind::dgram_socket, .fd = OwnedFd(ends[1])});
  }
  slots_[vm] = std::move(ours);
  return backends;
}

void UserFileNetwork::release(const std::string& vm) {
  const auto found = slots_.find(vm);
  if (found == slots_.end()) return;
  for (Slot& slot : found->second) detach_slot(slot);
  slots_.erase(found);
}

void UserFileNetwork::detach_slot(Slot& slot) {
  if (slot.bridge.empty()) return;
  const auto bridge = bridges_.find(slot.bridge);
  if (bridge != bridges_.end()) {
    slot.held = bridge->second.wire->release_port(slot.port);
    std::erase_if(bridge->second.members, [&](const auto& member) { return member.second == slot.port; });
  }
  slot.bridge.clear();
  slot.port = 0;
}

void UserFileNetwork::add_bridge(const std::string& bridge, const BridgeSubnet&) {
  if (bridges_.contains(bridge)) throw NetworkError("bridge `" + bridge + "` exists already");
  const std::uint64_t seed = seed_ ^ std::hash<std::string>{}(bridge);
  bridges_.emplace(bridge, BridgeState{.wire = std::make_unique<UserSwitch>(bridge, seed), .members = {}});
}

UserFileNetwork::BridgeState& UserFileNetwork::bridge_named(const std::string& bridge) {
  const auto found = bridges_.find(bridge);
  if (found == bridges_.end()) throw NetworkError("no bridge named `" + bridge + "`");
  return found->second;
}

const UserFileNetwork::BridgeState& UserFileNetwork::bridge_named(const std::string& bridge) const {
  const auto found = bridges_.find(bridge);
  if (found == bridges_.end()) throw NetworkError("no bridge named `" + bridge + "`");
  return found->second;
}

PortId UserFileNetwork::port_of(const BridgeState& state, const std::string& bridge, const std::string& vm) const {
  const auto found = state.members.find(vm);
  if (found == state.members.end()) throw NetworkError("VM `" + vm + "` is not attached to bridge `" + bridge + "`");
  return found->second;
}

void UserFileNetwork::attach(const std::string& bridge, const std::string& vm, std::size_t slot) {
  BridgeState& state = bridge_named(bridge);
  if (state.members.contains(vm)) throw NetworkError("VM `" + vm + "` is attached to bridge `" + bridge + "` already");
  const auto slots = slots_.find(vm);
  if (slots == slots_.end() || slot >= slots->second.size()) {
    throw NetworkError("VM `" + vm + "` has no NIC slot " + std::to_string(slot));
  }
  Slot& chosen = slots->second[slot];
  if (!chosen.bridge.empty()) {
    throw NetworkError("NIC slot " + std::to_string(slot) + " of VM `" + vm + "` is on bridge `" + chosen.bridge + "`");
  }
  chosen.port = state.wire->adopt_port(std::move(chosen.held));
  chosen.bridge = bridge;
  state.members.emplace(vm, chosen.port);
}

void UserFileNetwork::detach(const std::string& bridge, const std::string& vm) {
  const auto slots = slots_.find(vm);
  if (slots == slots_.end()) return;
  for (Slot& slot : slots->second) {
    if (slot.bridge == bridge) detach_slot(slot);
  }
}

void UserFileNetwork::apply(const std::string& bridge, const BridgePolicy& policy) {
  BridgeState& state = bridge_named(bridge);
  // Resolve every name first, so a bad one leaves the old policy in force.
  LinkPolicy next;
  for (const auto& [from, to] : policy.blocked) next.block(port_of(state, bridge, from), port_of(state, bridge, to));
  for (const auto& vm : policy.isolated) next.isolate(port_of(state, bridge, vm), true);
  next.whole() = policy.whole;
  for (const auto& [pair, impairments] : policy.pairs) {
    next.pair(port_of(state, bridge, pair.first), port_of(state, bridge, pair.second)) = impairments;
  }
  state.wire->edit_policy([&](LinkPolicy& current) { current = next; });
}

NicCounters UserFileNetwork::counters(const std::string& bridge, const std::string& vm) const {
  const BridgeState& state = bridge_named(bridge);
  return from_port(state.wire->counters(port_of(state, bridge, vm)));
}

OwnedFd UserFileNetwork::capture(const std::string& bridge, const std::optional<std::string>& vm) {
  BridgeState& state = bridge_named(bridge);
  std::optional<PortId> port;
  if (vm) port = port_of(state, bridge, *vm);
  OwnedFd read_end;
  state.wire->add_tap(std::make_shared<PcapPipeTap>(read_end), port);
  return read_end;
}

UplinkInfo UserFileNetwork::enable_uplink(const std::string&) {
  throw NetworkError("uplink needs the kernel datapath (--net kernel)");
}

void UserFileNetwork::disable_uplink(const std::string&) {
  throw NetworkError("uplink needs the kernel datapath (--net kernel)");
}

}  // namespace provium::net
