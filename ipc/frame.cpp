#include "frame.h"

#include <cstring>
#include <stdexcept>
#include <string>

namespace provium::frame {

std::vector<std::byte> encode(capnp::MessageBuilder& message) {
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  if (bytes.size() > kMaxFrameBytes) {
    throw std::runtime_error("frame of " + std::to_string(bytes.size()) + " bytes exceeds the " +
                             std::to_string(kMaxFrameBytes) + "-byte limit");
  }
  std::vector<std::byte> out(kHeaderBytes + bytes.size());
  const auto size = static_cast<std::uint32_t>(bytes.size());
  for (std::size_t i = 0; i < kHeaderBytes; ++i) out[i] = std::byte((size >> (8 * i)) & 0xff);
  std::memcpy(out.data() + kHeaderBytes, bytes.begin(), bytes.size());
  return out;
}

void Decoder::feed(const std::byte* data, std::size_t size) {
  // Compact lazily so a stream of small frames does not memmove on every call.
  if (consumed_ > 0 && consumed_ * 2 >= buffer_.size()) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(consumed_));
    consumed_ = 0;
  }
  buffer_.insert(buffer_.end(), data, data + size);
}

std::optional<kj::Array<capnp::word>> Decoder::next() {
  if (buffered() < kHeaderBytes) return std::nullopt;
  const std::byte* head = buffer_.data() + consumed_;
  std::uint32_t size = 0;
  for (std::size_t i = 0; i < kHeaderBytes; ++i) size |= std::uint32_t(head[i]) << (8 * i);
  if (size > kMaxFrameBytes) {
    throw std::runtime_error("peer announced a frame of " + std::to_string(size) +
                             " bytes, above the " + std::to_string(kMaxFrameBytes) + "-byte limit");
  }
  if (size % sizeof(capnp::word) != 0) {
    throw std::runtime_error("peer sent a frame of " + std::to_string(size) +
                             " bytes, not a whole number of 8-byte words");
  }
  if (buffered() < kHeaderBytes + size) return std::nullopt;
  auto words = kj::heapArray<capnp::word>(size / sizeof(capnp::word));
  std::memcpy(words.begin(), head + kHeaderBytes, size);
  consumed_ += kHeaderBytes + size;
  return words;
}

capnp::ReaderOptions reader_options() {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = (kMaxFrameBytes / sizeof(capnp::word)) * 2;
  options.nestingLimit = 32;
  return options;
}

}  // namespace provium::frame
