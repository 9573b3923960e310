// The nftables filter of one bridge: partitions (symmetric or one-way),
// isolation of a port, and random loss, each added and removed at will.
// The rules live in the bridge's namespace (see bridge_filter_rules.h for
// their shape); each change is one atomic nft transaction, and a change the
// kernel refuses leaves both the kernel and this object as they were.
#pragma once

#include <functional>
#include <string>

#include "bridge.h"
#include "bridge_filter_rules.h"
#include "net_namespace.h"

namespace provium::netsetup {

class BridgeFilter {
 public:
  // No table exists until the first rule is added.
  explicit BridgeFilter(const Bridge& bridge);
  BridgeFilter(BridgeFilter&& other) noexcept;
  BridgeFilter& operator=(BridgeFilter&& other) = delete;
  BridgeFilter(const BridgeFilter&) = delete;
  BridgeFilter& operator=(const BridgeFilter&) = delete;
  ~BridgeFilter();  // removes the table

  // Drops frames from port `from` to port `to`; the other way still flows.
  void block(const std::string& from, const std::string& to);
  void unblock(const std::string& from, const std::string& to);
  // Both directions.
  void partition(const std::string& a, const std::string& b);
  void unpartition(const std::string& a, const std::string& b);
  // Nothing forwarded to or from `port`; the bridge itself keeps it.
  void isolate(const std::string& port);
  void unisolate(const std::string& port);
  // Drops `percent` of the frames in `scope` at random (0 removes the rule).
  void set_loss(const LossScope& scope, double percent);
  // Removes every rule.
  void clear();
  // Replaces every rule in one transaction: `fill` gets an empty rule set
  // (that knows the current ports) and adds what should be in force.
  void replace(const std::function<void(BridgeFilterRules&)>& fill);
  // Rules for the whole bridge name its ports; every change re-reads them,
  // and after attaching or detaching a port this brings the rules up to date.
  void refresh_ports();

  const BridgeFilterRules& rules() const { return rules_; }

 private:
  // Makes `change` to a copy, applies the copy, and keeps it if the kernel took it.
  template <typename Change>
  void update(const std::string& what, Change&& change);

  NetNamespace ns_;
  int bridge_ifindex_;
  BridgeFilterRules rules_;
  bool installed_ = false;  // a table exists in the kernel
};

}  // namespace provium::netsetup
