#include "bridge_filter_rules.h"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "interface_name.h"

namespace provium::netsetup {
namespace {

void check_table_name(const std::string& table) {
  const auto word = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  bool ok = !table.empty() && word(table.front());
  for (const char c : table) ok = ok && (word(c) || (c >= '0' && c <= '9'));
  if (!ok) throw std::invalid_argument(fmt::format("bridge filter: `{}` is not a usable nftables table name", table));
}

std::string scope_match(const LossScope& scope) {
  std::string match;
  if (scope.from) match += fmt::format("iifname \"{}\" ", *scope.from);
  if (scope.to) match += fmt::format("oifname \"{}\" ", *scope.to);
  return match;
}

std::string any_port_match(const std::set<std::string>& ports) {
  std::string names;
  for (const auto& port : ports) names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", port);
  return fmt::format("iifname {{ {} }} ", names);
}

}  // namespace

BridgeFilterRules::BridgeFilterRules(std::string table) : table_(std::move(table)) { check_table_name(table_); }

bool BridgeFilterRules::add_block(const std::string& from, const std::string& to) {
  check_interface_name(from, "partition: `from` port");
  check_interface_name(to, "partition: `to` port");
  if (from == to) throw std::invalid_argument(fmt::format("partition: `{}` cannot be cut off from itself", from));
  return blocks_.emplace(from, to).second;
}

bool BridgeFilterRules::remove_block(const std::string& from, const std::string& to) {
  return blocks_.erase({from, to}) > 0;
}

bool BridgeFilterRules::add_isolation(const std::string& port) {
  check_interface_name(port, "isolate: port");
  return isolated_.insert(port).second;
}

bool BridgeFilterRules::remove_isolation(const std::string& port) { return isolated_.erase(port) > 0; }

bool BridgeFilterRules::set_loss(const LossScope& scope, double percent) {
  if (scope.from) check_interface_name(*scope.from, "loss: `from` port");
  if (scope.to) check_interface_name(*scope.to, "loss: `to` port");
  if (!std::isfinite(percent) || percent < 0 || percent > 100) {
    throw std::invalid_argument(fmt::format("loss: rate must be a percentage in [0, 100], got {}", percent));
  }
  const int basis_points = static_cast<int>(std::lround(percent * 100));
  if (basis_points == 0) return loss_basis_points_.erase(scope) > 0;
  auto [entry, inserted] = loss_basis_points_.try_emplace(scope, basis_points);
  if (inserted) return true;
  const bool changed = entry->second != basis_points;
  entry->second = basis_points;
  return changed;
}

bool BridgeFilterRules::clear() {
  const bool had_rules = !empty();
  isolated_.clear();
  blocks_.clear();
  loss_basis_points_.clear();
  return had_rules;
}

bool BridgeFilterRules::set_ports(std::set<std::string> ports) {
  for (const auto& port : ports) check_interface_name(port, "bridge port");
  if (ports == ports_) return false;
  ports_ = std::move(ports);
  return true;
}

bool BridgeFilterRules::blocked(const std::string& from, const std::string& to) const {
  return blocks_.contains({from, to});
}

bool BridgeFilterRules::isolated(const std::string& port) const { return isolated_.contains(port); }

double BridgeFilterRules::loss(const LossScope& scope) const {
  const auto found = loss_basis_points_.find(scope);
  return found == loss_basis_points_.end() ? 0.0 : found->second / 100.0;
}

bool BridgeFilterRules::empty() const { return isolated_.empty() && blocks_.empty() && loss_basis_points_.empty(); }

std::string BridgeFilterRules::render() const {
  // "add" first so the "delete" cannot fail on a table that is not there yet.
  std::string script = fmt::format("add table bridge {0}\ndelete table bridge {0}\n", table_);
  if (empty()) return script;
  script += fmt::format("table bridge {} {{\n  chain forward {{\n", table_);
  script += "    type filter hook forward priority 0; policy accept;\n";
  for (const auto& port : isolated_) {
    script += fmt::format("    iifname \"{0}\" drop\n    oifname \"{0}\" drop\n", port);
  }
  for (const auto& [from, to] : blocks_) {
    script += fmt::format("    iifname \"{}\" oifname \"{}\" drop\n", from, to);
  }
  for (const auto& [scope, basis_points] : loss_basis_points_) {
    const bool whole_bridge = !scope.from && !scope.to;
    if (whole_bridge && ports_.empty()) continue;  // nothing to lose yet
    const std::string match = whole_bridge ? any_port_match(ports_) : scope_match(scope);
    if (basis_points >= 10000) {
      script += fmt::format("    {}drop\n", match);
    } else {
      script += fmt::format("    {}numgen random mod 10000 < {} drop\n", match, basis_points);
    }
  }
  script += "  }\n}\n";
  return script;
}

}  // namespace provium::netsetup
