#include "vm_fleet.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace provium {

void VmSlot::mark_running(std::uint32_t cid) {
  running_since = std::chrono::steady_clock::now();
  emit(events, events::vm_spawned(file, name, profile, ram_bytes, cid));
}

void VmSlot::release() {
  KJ_IF_MAYBE(running, vm) { (*running)->kill(); }
  vm = nullptr;
  state = VmState::shut_down;
  if (auto since = std::exchange(running_since, std::nullopt)) {
    emit(events, events::vm_shutdown(file, name, std::chrono::steady_clock::now() - *since));
  }
  if (auto released = std::exchange(on_release, nullptr)) released(*this);
}

kj::Own<VmSlot> VmFleet::add(std::string name, std::string profile, VmRequest created_with) {
  slots_.erase(std::remove_if(slots_.begin(), slots_.end(),
                              [](const kj::Own<VmSlot>& slot) { return slot->state == VmState::shut_down; }),
               slots_.end());
  if (slots_.size() >= kMaxLiveVms) {
    throw std::runtime_error(fmt::format("cannot create VM `{}`: this file already has {} live VMs, the limit",
                                         name, kMaxLiveVms));
  }
  auto slot = kj::refcounted<VmSlot>();
  slot->name = std::move(name);
  slot->profile = std::move(profile);
  slot->created_with = std::move(created_with);
  slot->index = ++created_;
  slot->events = events_;
  slot->file = file_;
  slots_.push_back(kj::addRef(*slot));
  return slot;
}

void VmFleet::destroy_all() {
  for (auto& slot : slots_) slot->release();
  slots_.clear();
}

std::size_t VmFleet::live() const {
  return static_cast<std::size_t>(std::count_if(slots_.begin(), slots_.end(), [](const kj::Own<VmSlot>& slot) {
    return slot->state != VmState::shut_down;
  }));
}

}  // namespace provium
