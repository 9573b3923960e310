#include "link_policy.h"

#include <iterator>

namespace provium::net {

void LinkPolicy::forget(PortId port) {
  std::erase_if(blocked_, [port](const auto& pair) { return pair.first == port || pair.second == port; });
  isolated_.erase(port);
  std::erase_if(pairs_, [port](const auto& item) { return item.first.first == port || item.first.second == port; });
}

void LinkPolicy::reset() {
  blocked_.clear();
  isolated_.clear();
  whole_ = {};
  pairs_.clear();
}

PairVerdict LinkPolicy::verdict(PortId from, PortId to) const {
  PairVerdict verdict;
  verdict.blocked = is_blocked(from, to) || is_isolated(from) || is_isolated(to);
  Impairments effective = whole_;
  verdict.bandwidth_is_whole = whole_.bandwidth_bps.has_value();
  if (const auto found = pairs_.find({from, to}); found != pairs_.end()) {
    const Impairments& specific = found->second;
    if (specific.latency) effective.latency = specific.latency;
    if (specific.jitter) effective.jitter = specific.jitter;
    if (specific.loss) effective.loss = specific.loss;
    if (specific.bandwidth_bps) {
      effective.bandwidth_bps = specific.bandwidth_bps;
      verdict.bandwidth_is_whole = false;
    }
  }
  verdict.latency = effective.latency.value_or(std::chrono::microseconds(0));
  verdict.jitter = effective.jitter.value_or(std::chrono::microseconds(0));
  verdict.loss = effective.loss.value_or(0);
  verdict.bandwidth_bps = effective.bandwidth_bps.value_or(0);
  return verdict;
}

}  // namespace provium::net
