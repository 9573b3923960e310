// Something that wants a copy of frames crossing the switch: a capture.
// Called on the switch's thread; must not block (copy and return).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>

namespace provium::net {

class FrameTap {
 public:
  virtual ~FrameTap() = default;
  virtual void on_frame(std::chrono::system_clock::time_point when, std::span<const std::uint8_t> frame) = 0;
};

}  // namespace provium::net
