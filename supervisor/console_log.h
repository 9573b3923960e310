// What the supervisor keeps of a guest's console: the first `head_capacity`
// bytes from power-on (the boot log) and the last `tail_capacity` bytes, so
// memory stays bounded however long the guest prints.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "tail_buffer.h"

namespace provium {

class ConsoleLog {
 public:
  ConsoleLog(std::size_t head_capacity, std::size_t tail_capacity)
      : head_capacity_(head_capacity), tail_(tail_capacity) {}

  void append(std::string_view bytes);
  // Everything kept: the head, then (when bytes were dropped between them) a
  // marker line naming how many, then the tail.
  std::string text() const;
  // The last `max_bytes` printed (bounded by what is kept).
  std::string tail(std::size_t max_bytes) const;
  // The last `count` lines, without a trailing empty line.
  std::string last_lines(std::size_t count) const;
  std::size_t total_written() const { return head_.size() + tail_.total_written(); }

 private:
  std::size_t head_capacity_;
  std::string head_;
  TailBuffer tail_;  // everything after the head
};

}  // namespace provium
