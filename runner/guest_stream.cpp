#include "guest_stream.h"

#include <stdexcept>

namespace provium::runner {

GuestStream::~GuestStream() {
  // Collected while open: release the agent's side (and its credit window).
  try {
    close();
  } catch (const std::exception&) {
  }
}

void GuestStream::fail(const std::string& message) const {
  throw std::runtime_error("vm `" + vm_->name() + "`: " + what() + ": " + message);
}

std::optional<std::string> GuestStream::next(std::chrono::milliseconds wait) {
  if (closed_) return std::nullopt;
  if (!pending_.empty()) return std::exchange(pending_, std::string());
  auto data = vm_->stream_read(what(), key_, kStreamChunkMax, Deadline::after(wait));
  if (!data || data->empty()) return std::nullopt;
  return data;
}

std::string GuestStream::read_until(const std::string& pattern, std::chrono::milliseconds wait) {
  if (closed_) fail("read_until: stream closed");
  if (pattern.empty()) fail("read_until: the pattern is empty");
  const Deadline deadline = Deadline::after(wait);
  std::size_t searched_from = 0;
  for (;;) {
    if (const auto at = pending_.find(pattern, searched_from); at != std::string::npos) {
      std::string prefix = pending_.substr(0, at + pattern.size());
      pending_.erase(0, at + pattern.size());
      return prefix;
    }
    if (pending_.size() >= pattern.size()) searched_from = pending_.size() - pattern.size() + 1;
    if (pending_.size() > kReadUntilLimit) {
      fail("read_until: no `" + pattern + "` in the first " + std::to_string(kReadUntilLimit) + " bytes");
    }
    auto data = vm_->stream_read(what(), key_, kStreamChunkMax, deadline);
    if (!data) fail("read_until timed out waiting for `" + pattern + "`");
    if (data->empty()) {
      const auto ending = vm_->stream_ending(key_);
      std::string why = "stream EOF";
      if (ending && ending->failed) why += " (read failed: " + ending->message + ")";
      fail("read_until `" + pattern + "`: " + why);
    }
    pending_ += *data;
  }
}

std::vector<std::string> GuestStream::drain(std::chrono::milliseconds wait) {
  std::vector<std::string> frames;
  if (closed_) return frames;
  const Deadline deadline = Deadline::after(wait);
  if (!pending_.empty()) frames.push_back(std::exchange(pending_, std::string()));
  for (;;) {
    auto data = vm_->stream_read(what(), key_, kStreamChunkMax, deadline);
    if (!data || data->empty()) return frames;
    frames.push_back(std::move(*data));
  }
}

void GuestStream::close() {
  if (closed_) return;
  closed_ = true;
  pending_.clear();  // a next() after close must not see stale bytes
  vm_->stream_close(what(), key_);
}

bool GuestStream::eof() {
  if (closed_) return pending_.empty();
  if (!pending_.empty()) return false;
  const auto ending = vm_->stream_ending(key_);
  if (!ending) return false;
  // Ended in the agent; honest only once everything buffered was read.
  auto data = vm_->stream_read(what(), key_, kStreamChunkMax, Deadline::after(std::chrono::milliseconds(0)));
  if (data && !data->empty()) {
    pending_ = std::move(*data);
    return false;
  }
  return true;
}

}  // namespace provium::runner
