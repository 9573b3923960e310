// One encoded response waiting to be written to the channel.
//
// Byte-for-byte the same as frame::encode() (u32 length, segment table,
// segments), but the segments are written straight out of the message builder
// instead of being copied twice: a run result can carry ~64 MiB of output and
// the guest may have only 256 MiB of RAM.
#pragma once

#include <capnp/message.h>
#include <kj/array.h>

#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <vector>

namespace provium::agent {

class OutboundFrame {
 public:
  // Throws std::length_error if the encoded frame would exceed frame::kMaxFrameBytes.
  explicit OutboundFrame(std::unique_ptr<capnp::MessageBuilder> message);
  // A frame body received from a peer, passed on unchanged (worker traffic).
  explicit OutboundFrame(kj::Array<capnp::word> body);

  std::size_t total_bytes() const { return total_bytes_; }
  std::size_t remaining_bytes() const { return total_bytes_ - written_; }
  bool finished() const { return written_ >= total_bytes_; }

  // Fills `out` (capacity `max`) with iovecs for the bytes not yet written.
  int pending_iovecs(iovec* out, int max) const;
  void advance(std::size_t bytes) { written_ += bytes; }

 private:
  std::unique_ptr<capnp::MessageBuilder> message_;
  kj::Array<capnp::word> forwarded_body_;
  // u32 frame length, then the Cap'n Proto segment table (padded to a word).
  std::vector<unsigned char> prefix_;
  std::vector<iovec> pieces_;  // prefix_ then each segment
  std::size_t total_bytes_ = 0;
  std::size_t written_ = 0;
};

}  // namespace provium::agent
