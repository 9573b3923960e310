// The user datapath behind FileNetwork: one UserSwitch per bridge. Each NIC
// slot is a SOCK_DGRAM socketpair made at provision time; QEMU keeps its end
// for the life of the VM, and attach/detach move our end between switches
// (an unattached slot's end is just held: what the guest sends there waits
// unread and is discarded when the slot is attached).
#pragma once

#include "file_network.h"
#include "user_switch.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace provium::net {

class UserFileNetwork final : public FileNetwork {
 public:
  // `seed` drives every bridge's loss and jitter (each bridge mixes in its name).
  explicit UserFileNetwork(std::uint64_t seed = 1) : seed_(seed) {}

  const char* datapath() const override { return "user"; }

  std::vector<GuestNicBackend> provision(const std::string& vm, std::size_t slots) override;
  void release(const std::string& vm) override;

  void add_bridge(const std::string& bridge, const BridgeSubnet& subnet) override;
  void attach(const std::string& bridge, const std::string& vm, std::size_t slot) override;
  void detach(const std::string& bridge, const std::string& vm) override;
  void apply(const std::string& bridge, const BridgePolicy& policy) override;
  NicCounters counters(const std::string& bridge, const std::string& vm) const override;
  OwnedFd capture(const std::string& bridge, const std::optional<std::string>& vm) override;
  UplinkInfo enable_uplink(const std::string& bridge) override;
  void disable_uplink(const std::string& bridge) override;

 private:
  // Where one slot's host end is: held here, or adopted by a bridge's switch.
  struct Slot {
    OwnedFd held;                 // valid while unattached
    std::string bridge;           // non-empty while attached
    PortId port = 0;
  };
  struct BridgeState {
    std::unique_ptr<UserSwitch> wire;
    std::map<std::string, PortId> members;  // vm -> port
  };

  BridgeState& bridge_named(const std::string& bridge);
  const BridgeState& bridge_named(const std::string& bridge) const;
  PortId port_of(const BridgeState& state, const std::string& bridge, const std::string& vm) const;
  void detach_slot(Slot& slot);

  std::uint64_t seed_;
  std::map<std::string, std::vector<Slot>> slots_;  // vm -> its slots
  // Destroyed first: every switch thread has stopped before the held ends close.
  std::map<std::string, BridgeState> bridges_;
};

}  // namespace provium::net
