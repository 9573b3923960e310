#include "test_network.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include <fmt/format.h>

namespace provium {
namespace {

constexpr auto kMaxDelay = std::chrono::microseconds(std::chrono::seconds(60));
constexpr std::uint64_t kMinBandwidthBps = 1000;
constexpr std::uint64_t kMaxBandwidthBps = 100'000'000'000ULL;

bool valid_bridge_name(const std::string& name) {
  if (name.empty() || name.size() > TestNetwork::kMaxBridgeNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';  // sub-lab bridges are `lab.name`
  });
}

std::string shown(const std::string& text) { return text.substr(0, 80); }

void check_impairments(const net::Impairments& impairments, const std::string& where) {
  if (impairments.latency && (impairments.latency->count() < 0 || *impairments.latency > kMaxDelay)) {
    throw NetworkRequestError(fmt::format("{}: latency must be 0 to 60 s", where));
  }
  if (impairments.jitter && (impairments.jitter->count() < 0 || *impairments.jitter > kMaxDelay)) {
    throw NetworkRequestError(fmt::format("{}: jitter must be 0 to 60 s", where));
  }
  if (impairments.loss && !(*impairments.loss >= 0.0 && *impairments.loss <= 1.0)) {
    throw NetworkRequestError(fmt::format("{}: loss must be 0 to 100 percent", where));
  }
  if (impairments.bandwidth_bps &&
      (*impairments.bandwidth_bps < kMinBandwidthBps || *impairments.bandwidth_bps > kMaxBandwidthBps)) {
    throw NetworkRequestError(fmt::format("{}: bandwidth must be 1 kbit/s to 100 Gbit/s", where));
  }
}

}  // namespace

MacAddress TestNetwork::mac_of(std::size_t vm_index, std::size_t slot) {
  return {0x52, 0x54, 0x00, static_cast<std::uint8_t>(vm_index >> 8), static_cast<std::uint8_t>(vm_index & 0xff),
          static_cast<std::uint8_t>(slot)};
}

std::string TestNetwork::address_of(std::size_t bridge_index, std::size_t vm_index) {
  return fmt::format("10.{}.0.{}", bridge_index, vm_index);
}

void TestNetwork::declare_bridge(const std::string& name) {
  if (!valid_bridge_name(name)) {
    throw NetworkRequestError(fmt::format("bad bridge name `{}`: use 1 to {} of [A-Za-z0-9_.-]", shown(name),
                                          kMaxBridgeNameLength));
  }
  if (bridges_.contains(name)) return;
  if (bridges_.size() >= kMaxBridges) {
    throw NetworkRequestError(fmt::format("cannot declare bridge `{}`: a file may have at most {} bridges", name,
                                          kMaxBridges));
  }
  if (!network_) network_ = make_network_();
  const std::size_t index = bridges_.size() + 1;
  network_->add_bridge(name, net::BridgeSubnet{.network = (10u << 24) | (static_cast<std::uint32_t>(index) << 16),
                                               .prefix_length = 24,
                                               .gateway = (10u << 24) | (static_cast<std::uint32_t>(index) << 16) | 254u});
  bridges_.emplace(name, Bridge{.index = index, .members = {}, .policy = {}});
}

GuestNics TestNetwork::provision(VmSlot& slot) {
  GuestNics nics;
  if (!network_ || slot.index > kMaxVmIndex) return nics;
  release(slot);
  nics.backends = network_->provision(slot.name, kNicSlots);
  for (std::size_t i = 0; i < kNicSlots; ++i) {
    const MacAddress mac = mac_of(slot.index, i);
    nics.macs.push_back(fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3],
                                    mac[4], mac[5]));
  }
  provisioned_[slot.name] = Provisioned{.vm_index = slot.index, .used = {}};
  return nics;
}

void TestNetwork::release(VmSlot& slot) {
  const auto found = provisioned_.find(slot.name);
  if (found == provisioned_.end() || found->second.vm_index != slot.index) return;
  for (auto& [name, bridge] : bridges_) {
    const auto member = bridge.members.find(slot.name);
    if (member != bridge.members.end() && member->second.slot == &slot) forget_member(name, bridge, slot.name);
  }
  provisioned_.erase(found);
  if (network_) network_->release(slot.name);
}

TestNetwork::Bridge& TestNetwork::bridge_named(const std::string& name) {
  const auto found = bridges_.find(name);
  if (found == bridges_.end()) throw NetworkRequestError(fmt::format("no bridge named `{}`", shown(name)));
  return found->second;
}

const TestNetwork::Bridge& TestNetwork::bridge_named(const std::string& name) const {
  const auto found = bridges_.find(name);
  if (found == bridges_.end()) throw NetworkRequestError(fmt::format("no bridge named `{}`", shown(name)));
  return found->second;
}

const TestNetwork::Member& TestNetwork::member_of(const Bridge& bridge, const std::string& bridge_name,
                                                  const std::string& vm) const {
  const auto found = bridge.members.find(vm);
  if (found == bridge.members.end()) {
    throw NetworkRequestError(fmt::format("VM `{}` is not attached to bridge `{}`", shown(vm), bridge_name));
  }
  return found->second;
}

VmHosts TestNetwork::hosts_of(const std::string& vm) const {
  VmHosts hosts{.vm = vm, .entries = {}};
  for (const auto& [name, bridge] : bridges_) {
    if (!bridge.members.contains(vm)) continue;
    // A sub-lab's bridge `dc1.lan` and VM `dc1.a`: also `a.lan`, the name
    // the lab itself uses (and a lab fixture's guests were built with).
    const auto dot = name.rfind('.');
    const std::string qualifier = dot == std::string::npos ? "" : name.substr(0, dot + 1);
    for (const auto& [other, member] : bridge.members) {
      const std::string address = address_of(bridge.index, member.slot->index);
      hosts.entries.push_back(HostName{.address = address, .name = other + "." + name});
      if (!qualifier.empty() && other.size() > qualifier.size() && other.starts_with(qualifier)) {
        hosts.entries.push_back(HostName{.address = address,
                                         .name = other.substr(qualifier.size()) + "." + name.substr(dot + 1)});
      }
    }
  }
  return hosts;
}

MembershipChange TestNetwork::attach(const std::string& bridge_name, const std::vector<VmSlot*>& vms) {
  Bridge& bridge = bridge_named(bridge_name);
  // Check everything first: all or none.
  std::set<std::string> seen;
  std::vector<std::pair<VmSlot*, std::size_t>> plan;
  for (VmSlot* slot : vms) {
    if (!seen.insert(slot->name).second) {
      throw NetworkRequestError(fmt::format("VM `{}` is listed twice", slot->name));
    }
    if (bridge.members.contains(slot->name)) {
      throw NetworkRequestError(fmt::format("VM `{}` is attached to bridge `{}` already", slot->name, bridge_name));
    }
    if (slot->state != VmState::booted && slot->state != VmState::paused) {
      throw NetworkRequestError(fmt::format("VM `{}` is not running; boot it before attaching it", slot->name));
    }
    if (slot->without_nics) {
      throw NetworkRequestError(fmt::format(
          "VM `{}` runs under --vmm local, which has no network devices; bridges need QEMU guests", slot->name));
    }
    const auto provisioned = provisioned_.find(slot->name);
    if (provisioned == provisioned_.end() || provisioned->second.vm_index != slot->index) {
      if (slot->index > kMaxVmIndex) {
        throw NetworkRequestError(fmt::format("VM `{}` is VM number {} of this file; only the first {} can join "
                                              "bridges", slot->name, slot->index, kMaxVmIndex));
      }
      throw NetworkRequestError(fmt::format(
          "VM `{}` has no network devices: it booted before this file declared any bridge (declare bridges first)",
          slot->name));
    }
    const auto& used = provisioned->second.used;
    const auto free = std::find(used.begin(), used.end(), false);
    if (free == used.end()) {
      throw NetworkRequestError(fmt::format("VM `{}` is on {} bridges already, the most it can be on", slot->name,
                                            kNicSlots));
    }
    plan.emplace_back(slot, static_cast<std::size_t>(free - used.begin()));
  }
  std::vector<std::string> done;
  try {
    for (const auto& [slot, nic] : plan) {
      network_->attach(bridge_name, slot->name, nic);
      done.push_back(slot->name);
    }
  } catch (...) {
    for (const auto& vm : done) network_->detach(bridge_name, vm);
    throw;
  }
  MembershipChange change;
  for (const auto& [slot, nic] : plan) {
    provisioned_[slot->name].used[nic] = true;
    bridge.members.emplace(slot->name, Member{.slot = slot, .nic = nic});
    change.nics.push_back(NicAddressing{.vm = slot->name,
                                        .mac = mac_of(slot->index, nic),
                                        .address = address_of(bridge.index, slot->index) + "/24",
                                        .slot = nic});
  }
  for (const auto& [vm, member] : bridge.members) change.hosts.push_back(hosts_of(vm));
  return change;
}

void TestNetwork::forget_member(const std::string& bridge_name, Bridge& bridge, const std::string& vm) {
  const auto member = bridge.members.find(vm);
  if (member == bridge.members.end()) return;
  const auto provisioned = provisioned_.find(vm);
  if (provisioned != provisioned_.end()) provisioned->second.used[member->second.nic] = false;
  bridge.members.erase(member);
  network_->detach(bridge_name, vm);
  // Rules naming a VM that left go with it; the rest stay in force.
  net::BridgePolicy& policy = bridge.policy;
  std::erase_if(policy.blocked, [&](const auto& pair) { return pair.first == vm || pair.second == vm; });
  policy.isolated.erase(vm);
  std::erase_if(policy.pairs, [&](const auto& entry) { return entry.first.first == vm || entry.first.second == vm; });
  network_->apply(bridge_name, policy);
}

MembershipChange TestNetwork::detach(const std::string& bridge_name, const std::vector<std::string>& vms) {
  Bridge& bridge = bridge_named(bridge_name);
  for (const auto& vm : vms) member_of(bridge, bridge_name, vm);
  MembershipChange change;
  for (const auto& vm : vms) {
    const Member member = member_of(bridge, bridge_name, vm);
    change.nics.push_back(NicAddressing{.vm = vm, .mac = mac_of(member.slot->index, member.nic), .address = {},
                                        .slot = member.nic});
    forget_member(bridge_name, bridge, vm);
    change.hosts.push_back(hosts_of(vm));
  }
  for (const auto& [vm, member] : bridge.members) change.hosts.push_back(hosts_of(vm));
  return change;
}

void TestNetwork::set_policy(const std::string& bridge_name, net::BridgePolicy policy) {
  Bridge& bridge = bridge_named(bridge_name);
  const std::string where = fmt::format("bridge `{}`", bridge_name);
  for (const auto& [from, to] : policy.blocked) {
    member_of(bridge, bridge_name, from);
    member_of(bridge, bridge_name, to);
  }
  for (const auto& vm : policy.isolated) member_of(bridge, bridge_name, vm);
  check_impairments(policy.whole, where);
  for (const auto& [pair, impairments] : policy.pairs) {
    member_of(bridge, bridge_name, pair.first);
    member_of(bridge, bridge_name, pair.second);
    check_impairments(impairments, fmt::format("{}: {} -> {}", where, pair.first, pair.second));
  }
  network_->apply(bridge_name, policy);
  bridge.policy = std::move(policy);
}

net::NicCounters TestNetwork::counters(const std::string& bridge_name, const std::string& vm) const {
  member_of(bridge_named(bridge_name), bridge_name, vm);
  return network_->counters(bridge_name, vm);
}

std::pair<VmSlot*, std::size_t> TestNetwork::member(const std::string& bridge_name, const std::string& vm) const {
  const Member& found = member_of(bridge_named(bridge_name), bridge_name, vm);
  return {found.slot, found.nic};
}

OwnedFd TestNetwork::capture(const std::string& bridge_name, const std::optional<std::string>& vm) {
  const Bridge& bridge = bridge_named(bridge_name);
  if (vm) member_of(bridge, bridge_name, *vm);
  return network_->capture(bridge_name, vm);
}

net::UplinkInfo TestNetwork::enable_uplink(const std::string& bridge_name) {
  bridge_named(bridge_name);
  return network_->enable_uplink(bridge_name);
}

void TestNetwork::disable_uplink(const std::string& bridge_name) {
  bridge_named(bridge_name);
  network_->disable_uplink(bridge_name);
}

}  // namespace provium
