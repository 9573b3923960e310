// One test file's networks as the supervisor keeps them: the bridges the file
// declared (in order), which VM's NIC slot is on which bridge, the addresses
// that follow from that, and each bridge's policy. The FileNetwork that
// realizes it is made on the first bridge and destroyed with this object.
//
// Addressing (docs/networking.md): bridge k (1-based, declaration order) is
// 10.k.0.0/24; VM j (1-based creation order in the file) is 10.k.0.j on it;
// .254 is kept for an uplink's gateway. Slot s of VM j has the MAC address
// 52:54:00:<j high>:<j low>:<s>.
//
// Everything here comes from the runner, so every name, count and value is
// checked; errors are NetworkRequestError with a message for the test.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "file_network.h"
#include "vm_backend.h"
#include "vm_fleet.h"

namespace provium {

class NetworkRequestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using MacAddress = std::array<std::uint8_t, 6>;

struct NicAddressing {
  std::string vm;
  MacAddress mac{};
  std::string address;  // "10.1.0.2/24"
  std::size_t slot = 0;
};

struct HostName {
  std::string address;
  std::string name;  // "<vm>.<bridge>"; in sub-lab dc1 also "<vm>.<bridge>" without the "dc1." parts
};

struct VmHosts {
  std::string vm;
  std::vector<HostName> entries;
};

struct MembershipChange {
  std::vector<NicAddressing> nics;
  std::vector<VmHosts> hosts;
};

class TestNetwork {
 public:
  static constexpr std::size_t kNicSlots = 4;
  static constexpr std::size_t kMaxBridges = 32;
  static constexpr std::size_t kMaxBridgeNameLength = 32;
  static constexpr std::size_t kMaxVmIndex = 253;  // .254 is the uplink gateway

  using Factory = std::function<std::unique_ptr<net::FileNetwork>()>;
  explicit TestNetwork(Factory make_network) : make_network_(std::move(make_network)) {}
  TestNetwork(const TestNetwork&) = delete;
  TestNetwork& operator=(const TestNetwork&) = delete;

  // Same name, same bridge. Throws NetworkRequestError (bad name, too many)
  // or net::NetworkError (the datapath is unavailable).
  void declare_bridge(const std::string& name);
  // File end: every bridge and slot goes (after the VMs).
  void close() {
    bridges_.clear();
    provisioned_.clear();
    network_.reset();
  }
  bool has_bridges() const { return !bridges_.empty(); }
  const char* datapath() const { return network_ ? network_->datapath() : "none"; }

  // At boot of `slot`'s VM: its NIC slots, or none when the file has no
  // bridge yet (VMs boot faster without network devices).
  GuestNics provision(VmSlot& slot);
  // The VM is gone: it leaves every bridge.
  void release(VmSlot& slot);

  MembershipChange attach(const std::string& bridge, const std::vector<VmSlot*>& vms);
  MembershipChange detach(const std::string& bridge, const std::vector<std::string>& vms);
  void set_policy(const std::string& bridge, net::BridgePolicy policy);
  net::NicCounters counters(const std::string& bridge, const std::string& vm) const;
  // The member and its NIC slot on `bridge`, for set_link.
  std::pair<VmSlot*, std::size_t> member(const std::string& bridge, const std::string& vm) const;
  OwnedFd capture(const std::string& bridge, const std::optional<std::string>& vm);
  net::UplinkInfo enable_uplink(const std::string& bridge);
  void disable_uplink(const std::string& bridge);

  static MacAddress mac_of(std::size_t vm_index, std::size_t slot);
  static std::string address_of(std::size_t bridge_index, std::size_t vm_index);

 private:
  struct Member {
    VmSlot* slot = nullptr;  // removed from here when the VM is released
    std::size_t nic = 0;
  };
  struct Bridge {
    std::size_t index = 0;  // 1-based
    std::map<std::string, Member> members;
    net::BridgePolicy policy;
  };
  struct Provisioned {
    std::size_t vm_index = 0;
    std::array<bool, kNicSlots> used{};
  };

  Bridge& bridge_named(const std::string& name);
  const Bridge& bridge_named(const std::string& name) const;
  const Member& member_of(const Bridge& bridge, const std::string& bridge_name, const std::string& vm) const;
  VmHosts hosts_of(const std::string& vm) const;
  void forget_member(const std::string& bridge_name, Bridge& bridge, const std::string& vm);

  Factory make_network_;
  std::unique_ptr<net::FileNetwork> network_;
  std::map<std::string, Bridge> bridges_;
  std::map<std::string, Provisioned> provisioned_;  // VM name -> its slots
};

}  // namespace provium
