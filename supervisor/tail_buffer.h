// Keeps the last `capacity` bytes written to it. Used for guest consoles and
// runner logs, which must be drained continuously but only their end matters.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace provium {

// The last `count` lines of `text`, without a trailing empty line.
std::string last_lines_of(std::string_view text, std::size_t count);

class TailBuffer {
 public:
  explicit TailBuffer(std::size_t capacity) : capacity_(capacity) {}

  void append(std::string_view bytes);
  // The last `max_bytes` bytes (never more than the capacity).
  std::string tail(std::size_t max_bytes) const;
  // The last `count` lines, without a trailing empty line.
  std::string last_lines(std::size_t count) const;
  std::size_t total_written() const { return total_written_; }

 private:
  std::size_t capacity_;
  std::size_t total_written_ = 0;
  std::string data_;  // grows to 2x capacity before trimming, so appends stay amortised O(1)
};

}  // namespace provium
