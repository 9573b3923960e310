// The VMs one test file has created. Each VM lives in a refcounted slot shared
// by the fleet and the runner's Vm capability: whichever lets go first (the
// runner shutting it down or dropping it, or the file ending) kills the VM, and
// neither side can be left holding a dangling pointer.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <kj/refcount.h>

#include "event_stream.h"
#include "running_vm.h"
#include "vm_request.h"

namespace provium {

enum class VmState { created, booting, booted, paused, shut_down };

struct VmSlot : public kj::Refcounted {
  std::string name;
  std::string profile;
  VmRequest created_with;
  VmState state = VmState::created;
  // A lifecycle verb (pause, resume, reset, power button) is under way;
  // another is refused until it settles.
  bool transitioning = false;
  kj::Maybe<kj::Own<RunningVm>> vm;
  // 1-based creation order in the file: the VM's host part in every bridge
  // subnet and in its MAC addresses (docs/networking.md).
  std::size_t index = 0;
  // What the running guest was started with (snapshot metadata).
  std::uint64_t ram_bytes = 0;
  std::uint32_t cpus = 1;
  std::size_t nic_slots = 0;
  // Booted by a backend without network devices (--vmm local).
  bool without_nics = false;
  // Called once when the VM goes (its NICs leave every bridge).
  std::function<void(VmSlot&)> on_release;
  // Who hears of the guest starting and stopping (vm_spawned, vm_shutdown),
  // and the display path of the file that owns it.
  EventStream* events = nullptr;
  std::string file;
  // Set while a guest started by boot or restore runs.
  std::optional<std::chrono::steady_clock::time_point> running_since;

  // The guest answered (booted or restored): emits vm_spawned. `cid` is the
  // vsock CID when the VM has one, else 0.
  void mark_running(std::uint32_t cid);
  // Kills the VM (if any) now; the slot stops counting as live. Emits
  // vm_shutdown when a guest was running.
  void release();
};

class VmFleet {
 public:
  static constexpr std::size_t kMaxLiveVms = 16;

  VmFleet() = default;
  // Slots added from now on emit VM events to `events` under `file`.
  void observe(EventStream* events, std::string file) {
    events_ = events;
    file_ = std::move(file);
  }
  VmFleet(const VmFleet&) = delete;
  VmFleet& operator=(const VmFleet&) = delete;
  ~VmFleet() { destroy_all(); }

  // Throws std::runtime_error when the file already has kMaxLiveVms live VMs.
  kj::Own<VmSlot> add(std::string name, std::string profile, VmRequest created_with);
  // Kills and reaps every VM of this file.
  void destroy_all();
  std::size_t live() const;

 private:
  std::vector<kj::Own<VmSlot>> slots_;
  std::size_t created_ = 0;
  EventStream* events_ = nullptr;
  std::string file_;
};

}  // namespace provium
