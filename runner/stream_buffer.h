// What the host holds of one agent stream: bytes received but not yet
// consumed by test code, and how the stream ended. Bounded by the credit
// window: the agent may only send what was granted, and grants follow
// consumption, so more than `window` bytes buffered is a protocol violation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <compare>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace provium::runner {

// Stream ids are per worker (ipc/agent.capnp), so the key is the pair.
struct StreamKey {
  std::uint32_t worker = 0;
  std::uint64_t stream = 0;
  auto operator<=>(const StreamKey&) const = default;
};

struct StreamEnding {
  bool failed = false;     // a read failed in the agent (else the source ended)
  int error_number = 0;
  std::string message;
};

class StreamBuffer {
 public:
  explicit StreamBuffer(std::size_t window) : window_(window) {}

  // Returns false when the data exceeds the window (the agent overran its credit).
  bool append(std::string_view data, bool after_truncation);
  void end(StreamEnding ending) { ending_ = std::move(ending); }

  // Up to `max` bytes from the front; the taken bytes count towards the next grant.
  std::string take(std::size_t max);
  // Bytes consumed since the last grant, if it is time to grant them: when the
  // buffer ran dry (the agent may be waiting) or half a window piled up.
  std::optional<std::size_t> due_grant();

  std::size_t buffered() const { return buffered_; }
  std::size_t window() const { return window_; }
  bool ended() const { return ending_.has_value(); }
  const std::optional<StreamEnding>& ending() const { return ending_; }
  // Set when a tail restarted at offset 0 since the last take().
  bool saw_truncation() const { return saw_truncation_; }

 private:
  std::size_t window_;
  std::deque<std::string> chunks_;
  std::size_t front_offset_ = 0;  // consumed bytes of chunks_.front()
  std::size_t buffered_ = 0;
  std::size_t consumed_ungranted_ = 0;
  bool saw_truncation_ = false;
  std::optional<StreamEnding> ending_;
};

}  // namespace provium::runner
