// One test network as test code sees it (docs/networking.md): who is
// attached, and what the test asked the links to do. The supervisor holds the
// real bridge; after it attaches or detaches a NIC, this object tells the
// guests' agents their addresses and names. The policy is kept whole here and
// sent whole on every change; rules may name VMs that are not attached yet
// (or only by name), and take effect once they are.
#pragma once

#include "supervisor_link.h"
#include "vm.h"

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace provium::runner {

// A VM handle, or a bare name (graph-only: recorded, never wired).
using BridgeMemberRef = std::variant<std::shared_ptr<Vm>, std::string>;

class Bridge {
 public:
  Bridge(std::string name, std::unique_ptr<BridgeBackend> backend)
      : name_(std::move(name)), backend_(std::move(backend)) {}

  const std::string& name() const { return name_; }
  std::string datapath() const { return backend_->datapath(); }

  // Every error starts "bridge:<method>: ".
  void attach(const std::vector<BridgeMemberRef>& members);
  void detach(const BridgeMemberRef& member);
  std::vector<std::string> members() const;
  bool is_member(const std::string& vm) const;
  // Attached with a VM handle and wired since it last booted or was restored,
  // and running: the supervisor has its NIC on the bridge.
  bool is_wired(const std::string& vm) const;
  // After `vm` booted or was restored: if it was attached while created, or
  // wired before it last went down, the supervisor wires it now and the
  // guests learn its address and name.
  void join_booted(Vm& vm);
  // The NIC slot `vm` has on this bridge, while it is wired (lab snapshots).
  std::optional<std::uint32_t> slot_of(const std::string& vm) const;
  // Orders a VM's bridges as it joined them (which is its NIC slots' order).
  std::uint64_t join_order(const std::string& vm) const;
  // The policy as test code set it (reset_between_tests keeps a copy).
  const BridgePolicySpec& policy() const { return wanted_; }
  void set_whole_policy(BridgePolicySpec policy, const char* method) {
    wanted_ = std::move(policy);
    apply(method);
  }

  void block(const std::string& from, const std::string& to, bool on);
  bool is_blocked(const std::string& from, const std::string& to) const;
  void partition_all();
  void restore_all();
  void isolate(const std::string& vm, bool on);
  bool is_isolated(const std::string& vm) const;
  LinkImpairmentsSpec& whole() { return wanted_.whole; }
  LinkImpairmentsSpec& pair(const std::string& from, const std::string& to) { return wanted_.pairs[{from, to}]; }
  // Sends the policy if it changed; on refusal the previous one stays.
  void apply(const char* method);
  void reset();

  std::vector<std::string>& routes() { return routes_; }
  bool route_warned = false;

  NicCountersValue counters(const std::string& vm);
  void set_link(const std::string& vm, bool up);
  kj::AutoCloseFd capture(const std::string& vm);
  BridgeBackend& backend() { return *backend_; }

  // Scope end: detaches every wired member from the supervisor's bridge and
  // clears its policy. Never throws; returns the error text, if any.
  std::optional<std::string> close() noexcept;
  bool closed() const { return closed_; }

 private:
  struct Member {
    std::string name;
    std::shared_ptr<Vm> vm;  // null: graph-only
    bool wired = false;      // the supervisor attached its NIC (it was booted)
    std::uint64_t cycle = 0;  // the VM's power cycle it was wired in
    std::optional<std::uint32_t> slot;  // its NIC slot, once the supervisor said
    std::uint64_t joined = 0;
  };
  // Wired in the VM's current power cycle and still running: the supervisor
  // has it attached (a VM that went down left every bridge there).
  static bool is_live(const Member& member);
  void require_open(const char* method) const;
  void tell_guests(const BridgeMembership& change, const std::vector<std::shared_ptr<Vm>>& also);
  BridgePolicySpec wired_policy() const;

  std::string name_;
  std::unique_ptr<BridgeBackend> backend_;
  std::vector<Member> members_;
  BridgePolicySpec wanted_;
  BridgePolicySpec accepted_;  // wanted_ as of the last policy the supervisor took
  std::optional<BridgePolicySpec> sent_;
  std::vector<std::string> routes_;
  bool closed_ = false;
};

}  // namespace provium::runner
