// A token-bucket (tbf) rate limit on what a link sends: on a TAP, what the
// bridge delivers to that guest; on a bridge, what it delivers to the host.
// Frames beyond the rate wait in a short queue (about 50 ms at the rate) and
// are dropped when it is full, like a slow link's. Destroying the object
// puts the link's default qdisc back.
#pragma once

#include <cstdint>
#include <string>

#include "net_namespace.h"

namespace provium::netsetup {

class BandwidthLimit {
 public:
  // `bits_per_second` from 1000 to 17 Gbit/s (tbf's 32-bit byte rate).
  // Errors name the link and the rate.
  static BandwidthLimit install(const NetNamespace& ns, const std::string& link_name, std::uint64_t bits_per_second);

  BandwidthLimit(BandwidthLimit&& other) noexcept;
  BandwidthLimit& operator=(BandwidthLimit&& other) = delete;
  BandwidthLimit(const BandwidthLimit&) = delete;
  BandwidthLimit& operator=(const BandwidthLimit&) = delete;
  ~BandwidthLimit();

  // Changes the rate in place (no gap without a limit).
  void set_rate(std::uint64_t bits_per_second);

  const std::string& link_name() const { return link_name_; }
  std::uint64_t bits_per_second() const { return bits_per_second_; }

 private:
  BandwidthLimit(NetNamespace ns, std::string link_name, std::uint64_t bits_per_second)
      : ns_(std::move(ns)), link_name_(std::move(link_name)), bits_per_second_(bits_per_second) {}

  NetNamespace ns_;
  std::string link_name_;
  std::uint64_t bits_per_second_ = 0;
  bool owned_ = true;
};

}  // namespace provium::netsetup
