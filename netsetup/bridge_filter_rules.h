// What a bridge's nftables filter should contain, and the script that makes
// the kernel's table match it. Pure: no kernel here (see bridge_filter.h).
//
// All rules sit in one table of the bridge family, in its forward hook,
// which sees every frame the bridge moves from one port to another (and
// none it delivers to the host itself). Ports are matched by name:
//   isolation of P:        iifname P drop; oifname P drop
//   block A -> B:          iifname A oifname B drop      (a symmetric partition is both directions)
//   loss on a scope:       [iifname A] [oifname B] numgen random mod 10000 < N drop
//   loss on the bridge:    iifname { every port } numgen random mod 10000 < N drop
// The whole bridge is matched by its ports' names because `meta ibrname`
// needs nft_meta_bridge, which kernels do not always have (this host's does
// not); so the rules are told the current ports (set_ports).
// Every change re-renders the whole table and swaps it in one transaction,
// so a rule is removed exactly by leaving it out.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace provium::netsetup {

// Which frames a loss rule applies to: from a port, to a port, both, or
// (both unset) everything the bridge forwards.
struct LossScope {
  std::optional<std::string> from;
  std::optional<std::string> to;
  auto operator<=>(const LossScope&) const = default;
};

class BridgeFilterRules {
 public:
  // `table` is the nftables table name (an identifier: [A-Za-z_][A-Za-z0-9_]*).
  explicit BridgeFilterRules(std::string table);

  // Each returns true when it changed something. Port names are checked.
  bool add_block(const std::string& from, const std::string& to);
  bool remove_block(const std::string& from, const std::string& to);
  bool add_isolation(const std::string& port);
  bool remove_isolation(const std::string& port);
  // `percent` in [0, 100], kept to 0.01 %; 0 removes the scope's rule.
  bool set_loss(const LossScope& scope, double percent);
  // Removes every rule (the ports stay known).
  bool clear();
  // The bridge's ports now, for whole-bridge rules.
  bool set_ports(std::set<std::string> ports);

  bool blocked(const std::string& from, const std::string& to) const;
  bool isolated(const std::string& port) const;
  // The scope's loss in percent, 0 when it has none.
  double loss(const LossScope& scope) const;
  bool empty() const;

  const std::string& table() const { return table_; }
  // One nft transaction that replaces the table with these rules (or just
  // deletes it when there are none).
  std::string render() const;

 private:
  std::string table_;
  std::set<std::string> ports_;
  std::set<std::string> isolated_;
  std::set<std::pair<std::string, std::string>> blocks_;
  std::map<LossScope, int> loss_basis_points_;  // 1..10000
};

}  // namespace provium::netsetup
