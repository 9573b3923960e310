#include "tail_buffer.h"

#include <algorithm>

namespace provium {

void TailBuffer::append(std::string_view bytes) {
  total_written_ += bytes.size();
  if (bytes.size() >= capacity_) {
    data_.assign(bytes.substr(bytes.size() - capacity_));
    return;
  }
  data_.append(bytes);
  if (data_.size() > 2 * capacity_) data_.erase(0, data_.size() - capacity_);
}

std::string TailBuffer::tail(std::size_t max_bytes) const {
  const std::size_t keep = std::min({max_bytes, capacity_, data_.size()});
  return data_.substr(data_.size() - keep);
}

std::string last_lines_of(std::string_view text, std::size_t count) {
  std::size_t end = text.size();
  while (end > 0 && text[end - 1] == '\n') --end;
  std::size_t start = end;
  for (std::size_t lines = 0; start > 0; --start) {
    if (text[start - 1] == '\n' && ++lines == count) break;
  }
  return std::string(text.substr(start, end - start));
}

std::string TailBuffer::last_lines(std::size_t count) const { return last_lines_of(tail(capacity_), count); }

}  // namespace provium
