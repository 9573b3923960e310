// What a test asked a link to do to traffic: one set per bridge (every
// pair) or per directed pair of guests. Unset fields leave the link alone.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace provium::net {

struct Impairments {
  std::optional<std::chrono::microseconds> latency;
  std::optional<std::chrono::microseconds> jitter;  // latency varies uniformly by +- this
  std::optional<double> loss;                       // fraction of frames dropped, 0..1
  std::optional<std::uint64_t> bandwidth_bps;       // bits per second leaving the source

  bool operator==(const Impairments&) const = default;
};

}  // namespace provium::net
