// Framing for the agent protocol: a little-endian u32 length, then one Cap'n
// Proto message in flat-array form. Used on both ends of the channel.
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace provium::frame {

// Frames above this size are refused by both ends: a peer that announces a
// bigger one is broken or hostile, and must not make us allocate it.
inline constexpr std::uint32_t kMaxFrameBytes = 64u << 20;
inline constexpr std::size_t kHeaderBytes = 4;

// Serialise `message` as one frame (header + body).
std::vector<std::byte> encode(capnp::MessageBuilder& message);

// Incremental decoder: feed bytes as they arrive, take whole frames out.
class Decoder {
 public:
  void feed(const std::byte* data, std::size_t size);
  // The body of the next complete frame, if one has fully arrived.
  // Throws std::runtime_error when the peer announced an oversized frame.
  std::optional<kj::Array<capnp::word>> next();
  std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::vector<std::byte> buffer_;
  std::size_t consumed_ = 0;
};

// Reader options for untrusted frames: bounded traversal and nesting.
capnp::ReaderOptions reader_options();

}  // namespace provium::frame
