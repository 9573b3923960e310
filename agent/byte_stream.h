// One stream: the bytes of a source descriptor, sent to the host as streamData
// events and closed with one streamEnd. It never sends more than the credit
// the host granted, and while it has no credit (or the host channel is
// congested) it does not read the source at all, so a writer into a pipe
// blocks instead of the agent buffering for it.
#pragma once

#include "event_loop.h"
#include "frame_channel.h"
#include "inotify_hub.h"
#include "agent.capnp.h"
#include "ready_signal.h"
#include "unique_fd.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace provium::agent {

// Largest streamData payload: small enough to interleave streams and replies,
// big enough that framing costs little.
inline constexpr std::size_t kStreamChunkBytes = 256u << 10;

// What every stream of a session shares.
struct StreamContext {
  EventLoop& loop;
  FrameChannel& channel;
  InotifyHub& inotify;
  std::vector<std::byte>& scratch;  // kStreamChunkBytes, for one read at a time
  // The stream has sent its streamEnd. Called from the loop; destroy the
  // stream only via EventLoop::defer.
  std::function<void(std::uint64_t stream)> on_ended;
};

class ByteStream {
 public:
  enum class Source {
    kPollable,    // pipe, tty, socket, FIFO, character device: epoll says when
    kFileToEnd,   // regular file, read to its end, then the stream ends
    kFileFollow,  // regular file followed past its end (tail -f); read again
                  // from 0 when it shrinks below what was read
  };

  // Throws std::system_error (e.g. when the file cannot be watched).
  ByteStream(StreamContext& context, std::uint64_t id, UniqueFd fd, Source source, std::uint64_t credit);
  ByteStream(const ByteStream&) = delete;
  ByteStream& operator=(const ByteStream&) = delete;

  void grant(std::uint64_t bytes);
  // The channel has room again.
  void resume() { schedule(); }
  std::uint64_t id() const { return id_; }
  bool ended() const { return ended_; }

 private:
  bool can_send() const;
  void schedule();
  void pump();
  void handle_end_of_data();
  bool file_shrank() const;
  void end(provium::wire::agent::StreamEndReason reason, int error_number, const std::string& message);

  StreamContext& context_;
  std::uint64_t id_;
  Source source_;
  std::uint64_t credit_;
  std::uint64_t position_ = 0;     // files: offset of the next byte to read
  bool waiting_for_change_ = false;  // following, and at the end for now
  bool after_truncation_ = false;    // the next data restarts at offset 0
  bool ended_ = false;

  UniqueFd fd_;
  Watch readable_;                  // pollable sources, while data is wanted
  std::optional<ReadySignal> ready_;  // file sources
  InotifyHub::Subscription changes_;  // following
};

}  // namespace provium::agent
