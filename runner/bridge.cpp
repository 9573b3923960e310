#include "bridge.h"

#include <algorithm>
#include <stdexcept>

namespace provium::runner {
namespace {

std::uint64_t next_join() {
  static std::uint64_t joins = 0;
  return ++joins;
}

std::string name_of(const BridgeMemberRef& member) {
  if (const auto* vm = std::get_if<std::shared_ptr<Vm>>(&member)) return (*vm)->name();
  return std::get<std::string>(member);
}

}  // namespace

void Bridge::require_open(const char* method) const {
  if (closed_) throw std::runtime_error(std::string("bridge:") + method + ": bridge `" + name_ + "` is closed");
}

bool Bridge::is_member(const std::string& vm) const {
  return std::any_of(members_.begin(), members_.end(), [&](const Member& m) { return m.name == vm; });
}

bool Bridge::is_live(const Member& member) {
  if (!member.wired || !member.vm) return false;
  const VmState state = member.vm->state();
  return (state == VmState::booted || state == VmState::paused) && member.cycle == member.vm->power_cycle();
}

std::optional<std::uint32_t> Bridge::slot_of(const std::string& vm) const {
  for (const auto& member : members_) {
    if (member.name == vm && is_live(member)) return member.slot;
  }
  return std::nullopt;
}

std::uint64_t Bridge::join_order(const std::string& vm) const {
  for (const auto& member : members_) {
    if (member.name == vm) return member.joined;
  }
  return 0;
}

bool Bridge::is_wired(const std::string& vm) const {
  return std::any_of(members_.begin(), members_.end(), [&](const Member& m) { return m.name == vm && is_live(m); });
}

std::vector<std::string> Bridge::members() const {
  std::vector<std::string> names;
  for (const auto& member : members_) names.push_back(member.name);
  return names;
}

void Bridge::tell_guests(const BridgeMembership& change, const std::vector<std::shared_ptr<Vm>>& also) {
  auto find = [&](const std::string& name) -> std::shared_ptr<Vm> {
    for (const auto& member : members_) {
      if (member.vm && member.name == name) return member.vm;
    }
    for (const auto& vm : also) {
      if (vm->name() == name) return vm;
    }
    return nullptr;
  };
  for (const auto& nic : change.nics) {
    auto vm = find(nic.vm);
    if (!vm || vm->state() != VmState::booted) continue;
    std::vector<std::string> addresses;
    if (!nic.address.empty()) addresses.push_back(nic.address);
    vm->configure_nic(nic.mac, addresses, !nic.address.empty(), nic.slot);
    if (!nic.address.empty()) {
      for (auto& member : members_) {
        if (member.vm == vm) member.slot = nic.slot;
      }
    }
  }
  for (const auto& hosts : change.hosts) {
    auto vm = find(hosts.vm);
    if (vm && vm->state() == VmState::booted) vm->set_hosts(hosts.entries);
  }
}

void Bridge::attach(const std::vector<BridgeMemberRef>& members) {
  require_open("attach");
  std::vector<VmBackend*> wired;
  std::vector<std::shared_ptr<Vm>> handles;
  for (const auto& member : members) {
    const std::string name = name_of(member);
    if (is_member(name)) {
      throw std::runtime_error("bridge:attach: `" + name + "` is attached to bridge `" + name_ + "` already");
    }
    if (const auto* vm = std::get_if<std::shared_ptr<Vm>>(&member)) {
      const VmState state = (*vm)->state();
      if (state != VmState::booted && state != VmState::created) {
        throw std::runtime_error("bridge:attach: vm `" + name + "` is " + to_string(state) +
                                 "; only a created or booted VM can join bridge `" + name_ + "`");
      }
      // A created VM is recorded now and joins when it boots (join_booted).
      if (state == VmState::booted) wired.push_back(&(*vm)->backend());
      handles.push_back(*vm);
    }
  }
  BridgeMembership change;
  if (!wired.empty()) {
    try {
      change = backend_->attach(wired);
    } catch (const std::exception& error) {
      throw std::runtime_error(std::string("bridge:attach: ") + error.what());
    }
  }
  for (const auto& vm : handles) {
    members_.push_back(Member{vm->name(), vm, vm->state() == VmState::booted, vm->power_cycle(), std::nullopt,
                              next_join()});
  }
  if (!wired.empty()) tell_guests(change, {});
  for (const auto& member : members) {
    if (std::holds_alternative<std::string>(member)) {
      members_.push_back(Member{std::get<std::string>(member), nullptr, false, 0, std::nullopt, next_join()});
    }
  }
  apply("attach");
}

void Bridge::join_booted(Vm& vm) {
  if (closed_) return;
  const auto found = std::find_if(members_.begin(), members_.end(), [&](const Member& m) {
    return m.vm.get() == &vm && (!m.wired || m.cycle != vm.power_cycle());
  });
  if (found == members_.end()) return;
  BridgeMembership change;
  try {
    change = backend_->attach({&vm.backend()});
  } catch (const std::exception& error) {
    throw std::runtime_error(std::string("joining the bridges it was attached to: ") + error.what());
  }
  found->wired = true;
  found->cycle = vm.power_cycle();
  tell_guests(change, {});
  apply("attach");
}

void Bridge::detach(const BridgeMemberRef& member) {
  require_open("detach");
  const std::string name = name_of(member);
  const auto found = std::find_if(members_.begin(), members_.end(), [&](const Member& m) { return m.name == name; });
  if (found == members_.end()) {
    throw std::runtime_error("bridge:detach: `" + name + "` is not attached to bridge `" + name_ + "`");
  }
  const Member leaving = *found;
  members_.erase(found);
  // Rules naming it go with it.
  std::erase_if(wanted_.blocked, [&](const auto& p) { return p.first == name || p.second == name; });
  wanted_.isolated.erase(name);
  std::erase_if(wanted_.pairs, [&](const auto& e) { return e.first.first == name || e.first.second == name; });
  if (!is_live(leaving)) return;  // graph-only, not booted yet, or down: the supervisor does not have it
  BridgeMembership change;
  try {
    change = backend_->detach({name});
  } catch (const std::exception& error) {
    throw std::runtime_error(std::string("bridge:detach: ") + error.what());
  }
  sent_.reset();  // the supervisor pruned its copy the same way
  tell_guests(change, {leaving.vm});
  apply("detach");
}

void Bridge::block(const std::string& from, const std::string& to, bool on) {
  if (on) {
    wanted_.blocked.insert({from, to});
  } else {
    wanted_.blocked.erase({from, to});
  }
}

bool Bridge::is_blocked(const std::string& from, const std::string& to) const {
  return wanted_.blocked.contains({from, to});
}

void Bridge::partition_all() {
  for (const auto& a : members_) {
    for (const auto& b : members_) {
      if (a.name != b.name) wanted_.blocked.insert({a.name, b.name});
    }
  }
}

void Bridge::restore_all() { wanted_.blocked.clear(); }

void Bridge::isolate(const std::string& vm, bool on) {
  if (on) {
    wanted_.isolated.insert(vm);
  } else {
    wanted_.isolated.erase(vm);
  }
}

bool Bridge::is_isolated(const std::string& vm) const { return wanted_.isolated.contains(vm); }

BridgePolicySpec Bridge::wired_policy() const {
  BridgePolicySpec policy;
  for (const auto& pair : wanted_.blocked) {
    if (is_wired(pair.first) && is_wired(pair.second)) policy.blocked.insert(pair);
  }
  for (const auto& vm : wanted_.isolated) {
    if (is_wired(vm)) policy.isolated.insert(vm);
  }
  policy.whole = wanted_.whole;
  for (const auto& [pair, impairments] : wanted_.pairs) {
    if (is_wired(pair.first) && is_wired(pair.second) && impairments != LinkImpairmentsSpec{}) {
      policy.pairs[pair] = impairments;
    }
  }
  return policy;
}

void Bridge::apply(const char* method) {
  require_open(method);
  const BridgePolicySpec policy = wired_policy();
  if ((sent_ && *sent_ == policy) || (!sent_ && policy == BridgePolicySpec{})) {
    sent_ = policy;
    accepted_ = wanted_;
    return;
  }
  try {
    backend_->set_policy(policy);
  } catch (const std::exception& error) {
    wanted_ = accepted_;  // refused: what was in force stays, and the accessors say so
    throw std::runtime_error(std::string("bridge:") + method + ": " + error.what());
  }
  sent_ = policy;
  accepted_ = wanted_;
}

void Bridge::reset() {
  wanted_.blocked.clear();
  wanted_.isolated.clear();
  wanted_.whole = {};
  wanted_.pairs.clear();
  apply("reset");
}

NicCountersValue Bridge::counters(const std::string& vm) {
  require_open("counters");
  return backend_->counters(vm);
}

void Bridge::set_link(const std::string& vm, bool up) {
  require_open("set_link");
  backend_->set_link(vm, up);
}

kj::AutoCloseFd Bridge::capture(const std::string& vm) {
  require_open("capture");
  return backend_->capture(vm);
}

std::optional<std::string> Bridge::close() noexcept {
  if (closed_) return std::nullopt;
  closed_ = true;
  std::optional<std::string> error;
  try {
    std::vector<std::string> wired;
    for (const auto& member : members_) {
      if (is_live(member)) wired.push_back(member.name);
    }
    if (sent_ && *sent_ != BridgePolicySpec{}) backend_->set_policy({});
    if (!wired.empty()) backend_->detach(wired);
  } catch (const std::exception& failure) {
    error = "bridge `" + name_ + "`: close: " + failure.what();
  }
  members_.clear();
  return error;
}

}  // namespace provium::runner
