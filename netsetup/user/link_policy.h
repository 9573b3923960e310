// What the switch does to frames from one port to another: the impairments a
// test asked for, resolved to one answer per (from, to) pair. Whole-switch
// settings apply to every pair; a directional setting for a pair replaces the
// whole-switch value of that kind for that pair only.
#pragma once

#include "impairments.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace provium::net {

using PortId = std::uint32_t;

struct PairVerdict {
  bool blocked = false;  // partitioned or isolated
  std::chrono::microseconds latency{0};
  std::chrono::microseconds jitter{0};
  double loss = 0;
  std::uint64_t bandwidth_bps = 0;  // 0: unlimited
  bool bandwidth_is_whole = false;  // the whole-switch cap: all pairs share one link
};

class LinkPolicy {
 public:
  // Partitions: directional (from -> to). A symmetric partition is two of them.
  void block(PortId from, PortId to) { blocked_.insert({from, to}); }
  void unblock(PortId from, PortId to) { blocked_.erase({from, to}); }
  bool is_blocked(PortId from, PortId to) const { return blocked_.contains({from, to}); }
  void unblock_all() { blocked_.clear(); }

  // Isolation: the port reaches no other port and no port reaches it.
  void isolate(PortId port, bool on) {
    if (on) {
      isolated_.insert(port);
    } else {
      isolated_.erase(port);
    }
  }
  bool is_isolated(PortId port) const { return isolated_.contains(port); }

  Impairments& whole() { return whole_; }
  const Impairments& whole() const { return whole_; }
  Impairments& pair(PortId from, PortId to) { return pairs_[{from, to}]; }

  // Drops every rule that names `port` (it left the switch).
  void forget(PortId port);
  // Back to a plain switch.
  void reset();

  PairVerdict verdict(PortId from, PortId to) const;

 private:
  std::set<std::pair<PortId, PortId>> blocked_;
  std::set<PortId> isolated_;
  Impairments whole_;
  std::map<std::pair<PortId, PortId>, Impairments> pairs_;
};

}  // namespace provium::net
