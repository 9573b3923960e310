#include "bridge_filter.h"

#include <utility>

#include <fmt/format.h>

#include "link.h"
#include "nft_script.h"

namespace provium::netsetup {

BridgeFilter::BridgeFilter(const Bridge& bridge)
    : ns_(bridge.ns()),
      bridge_ifindex_(bridge.ifindex()),
      rules_(fmt::format("provium_bridge{}", bridge.ifindex())) {}

BridgeFilter::BridgeFilter(BridgeFilter&& other) noexcept
    : ns_(other.ns_),
      bridge_ifindex_(other.bridge_ifindex_),
      rules_(std::move(other.rules_)),
      installed_(std::exchange(other.installed_, false)) {}

BridgeFilter::~BridgeFilter() {
  if (!installed_) return;
  try {
    clear();
  } catch (const std::exception&) {
    // The table goes with the namespace.
  }
}

template <typename Change>
void BridgeFilter::update(const std::string& what, Change&& change) {
  BridgeFilterRules next = rules_;
  const bool ports_changed = next.set_ports(bridge_ports(ns_.route(), bridge_ifindex_));
  if (!change(next) && !ports_changed) return;
  run_nft_script(ns_, next.render(), what);
  rules_ = std::move(next);
  installed_ = !rules_.empty();
}

void BridgeFilter::block(const std::string& from, const std::string& to) {
  update(fmt::format("block {} -> {}", from, to), [&](BridgeFilterRules& rules) { return rules.add_block(from, to); });
}

void BridgeFilter::unblock(const std::string& from, const std::string& to) {
  update(fmt::format("unblock {} -> {}", from, to),
         [&](BridgeFilterRules& rules) { return rules.remove_block(from, to); });
}

void BridgeFilter::partition(const std::string& a, const std::string& b) {
  update(fmt::format("partition {} <-> {}", a, b), [&](BridgeFilterRules& rules) {
    const bool one = rules.add_block(a, b);
    const bool other = rules.add_block(b, a);
    return one || other;
  });
}

void BridgeFilter::unpartition(const std::string& a, const std::string& b) {
  update(fmt::format("unpartition {} <-> {}", a, b), [&](BridgeFilterRules& rules) {
    const bool one = rules.remove_block(a, b);
    const bool other = rules.remove_block(b, a);
    return one || other;
  });
}

void BridgeFilter::isolate(const std::string& port) {
  update(fmt::format("isolate {}", port), [&](BridgeFilterRules& rules) { return rules.add_isolation(port); });
}

void BridgeFilter::unisolate(const std::string& port) {
  update(fmt::format("unisolate {}", port), [&](BridgeFilterRules& rules) { return rules.remove_isolation(port); });
}

void BridgeFilter::set_loss(const LossScope& scope, double percent) {
  update(fmt::format("loss {}% on {} -> {}", percent, scope.from.value_or("*"), scope.to.value_or("*")),
         [&](BridgeFilterRules& rules) { return rules.set_loss(scope, percent); });
}

void BridgeFilter::refresh_ports() {
  update("refresh bridge ports", [](BridgeFilterRules&) { return false; });
}

void BridgeFilter::replace(const std::function<void(BridgeFilterRules&)>& fill) {
  update("replace filter", [&](BridgeFilterRules& rules) {
    rules.clear();
    fill(rules);
    return true;
  });
}

void BridgeFilter::clear() {
  update("clear filter", [](BridgeFilterRules& rules) { return rules.clear(); });
}

}  // namespace provium::netsetup
