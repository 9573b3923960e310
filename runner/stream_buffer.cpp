#include "stream_buffer.h"

#include <algorithm>

namespace provium::runner {

bool StreamBuffer::append(std::string_view data, bool after_truncation) {
  if (data.size() > window_ - std::min(window_, buffered_ + consumed_ungranted_)) return false;
  if (after_truncation) saw_truncation_ = true;
  if (data.empty()) return true;
  chunks_.emplace_back(data);
  buffered_ += data.size();
  return true;
}

std::string StreamBuffer::take(std::size_t max) {
  std::string out;
  saw_truncation_ = false;
  while (!chunks_.empty() && out.size() < max) {
    const std::string& front = chunks_.front();
    const std::size_t n = std::min(max - out.size(), front.size() - front_offset_);
    out.append(front, front_offset_, n);
    front_offset_ += n;
    if (front_offset_ == front.size()) {
      chunks_.pop_front();
      front_offset_ = 0;
    }
  }
  buffered_ -= out.size();
  consumed_ungranted_ += out.size();
  return out;
}

std::optional<std::size_t> StreamBuffer::due_grant() {
  if (consumed_ungranted_ == 0 || ended()) return std::nullopt;
  if (buffered_ != 0 && consumed_ungranted_ < window_ / 2) return std::nullopt;
  const std::size_t grant = consumed_ungranted_;
  consumed_ungranted_ = 0;
  return grant;
}

}  // namespace provium::runner
