#include "outbound_frame.h"

#include "frame.h"

#include <cstdint>
#include <stdexcept>
#include <string>

namespace provium::agent {
namespace {

void append_le32(std::vector<unsigned char>& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<unsigned char>((value >> (8 * i)) & 0xff));
}

}  // namespace

OutboundFrame::OutboundFrame(std::unique_ptr<capnp::MessageBuilder> message) : message_(std::move(message)) {
  auto segments = message_->getSegmentsForOutput();
  // Cap'n Proto stream framing: (segment count - 1), each segment's size in
  // words, then zero padding to a whole word.
  std::vector<unsigned char> table;
  append_le32(table, static_cast<std::uint32_t>(segments.size() - 1));
  for (auto segment : segments) append_le32(table, static_cast<std::uint32_t>(segment.size()));
  if (segments.size() % 2 == 0) append_le32(table, 0);

  std::size_t body_bytes = table.size();
  for (auto segment : segments) body_bytes += segment.asBytes().size();
  if (body_bytes > frame::kMaxFrameBytes) {
    throw std::length_error("response of " + std::to_string(body_bytes) + " bytes exceeds the " +
                            std::to_string(frame::kMaxFrameBytes) + "-byte frame limit");
  }

  append_le32(prefix_, static_cast<std::uint32_t>(body_bytes));
  prefix_.insert(prefix_.end(), table.begin(), table.end());
  pieces_.push_back(iovec{prefix_.data(), prefix_.size()});
  for (auto segment : segments) {
    auto bytes = segment.asBytes();
    pieces_.push_back(iovec{const_cast<kj::byte*>(bytes.begin()), bytes.size()});
  }
  total_bytes_ = frame::kHeaderBytes + body_bytes;
}

OutboundFrame::OutboundFrame(kj::Array<capnp::word> body) : forwarded_body_(kj::mv(body)) {
  const auto bytes = forwarded_body_.asBytes();
  if (bytes.size() > frame::kMaxFrameBytes) {
    throw std::length_error("forwarded frame of " + std::to_string(bytes.size()) + " bytes exceeds the limit");
  }
  append_le32(prefix_, static_cast<std::uint32_t>(bytes.size()));
  pieces_.push_back(iovec{prefix_.data(), prefix_.size()});
  pieces_.push_back(iovec{const_cast<kj::byte*>(bytes.begin()), bytes.size()});
  total_bytes_ = frame::kHeaderBytes + bytes.size();
}

int OutboundFrame::pending_iovecs(iovec* out, int max) const {
  std::size_t skip = written_;
  int count = 0;
  for (const iovec& piece : pieces_) {
    if (count == max) break;
    if (skip >= piece.iov_len) {
      skip -= piece.iov_len;
      continue;
    }
    out[count++] = iovec{static_cast<char*>(piece.iov_base) + skip, piece.iov_len - skip};
    skip = 0;
  }
  return count;
}

}  // namespace provium::agent
