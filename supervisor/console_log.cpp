#include "console_log.h"

#include <algorithm>

#include <fmt/format.h>

namespace provium {

void ConsoleLog::append(std::string_view bytes) {
  const std::size_t into_head = std::min(bytes.size(), head_capacity_ - head_.size());
  head_.append(bytes.substr(0, into_head));
  if (into_head < bytes.size()) tail_.append(bytes.substr(into_head));
}

std::string ConsoleLog::text() const {
  const std::string after_head = tail_.tail(tail_.total_written());
  const std::size_t dropped = tail_.total_written() - after_head.size();
  if (dropped == 0) return head_ + after_head;
  return head_ + fmt::format("\n[provium: {} bytes of console output not kept]\n", dropped) + after_head;
}

std::string ConsoleLog::tail(std::size_t max_bytes) const {
  std::string recent = tail_.tail(max_bytes);
  if (recent.size() >= max_bytes || tail_.total_written() > recent.size()) return recent;
  // Short of output after the head: the rest comes from the head's end.
  const std::size_t from_head = std::min(max_bytes - recent.size(), head_.size());
  return head_.substr(head_.size() - from_head) + recent;
}

std::string ConsoleLog::last_lines(std::size_t count) const {
  return last_lines_of(tail(head_capacity_ + tail_.total_written()), count);
}

}  // namespace provium
