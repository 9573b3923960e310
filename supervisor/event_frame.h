// The wire form of one Event: a 4-byte big-endian length, then a msgpack map
// {"ts": int, "kind": str, "payload": map}. Integers take msgpack's shortest
// form; signed ones that are negative stay signed.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include "event.h"

namespace provium {

inline constexpr std::size_t kMaxEventFrameBytes = 16 * 1024 * 1024;

class EventFrameError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The length prefix and the msgpack body.
std::string encode_event_frame(const Event& event);

// Reads the frame at the start of `bytes`; sets `consumed` to its size.
// Throws EventFrameError for a truncated, oversized or malformed frame.
Event decode_event_frame(std::string_view bytes, std::size_t& consumed);

}  // namespace provium
