// The streams of one host session: ids, the host's credit grants and closes,
// and waking every stream when the host channel has room again.
#pragma once

#include "byte_stream.h"
#include "event_loop.h"
#include "frame_channel.h"
#include "inotify_hub.h"
#include "unique_fd.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace provium::agent {

inline constexpr std::size_t kMaxStreams = 128;

class StreamTable {
 public:
  StreamTable(EventLoop& loop, FrameChannel& channel);
  StreamTable(const StreamTable&) = delete;
  StreamTable& operator=(const StreamTable&) = delete;

  // Streams `fd` from its current offset: a regular file to its end (or on
  // past it with `follow`), anything else until end of stream. Returns the
  // stream id. Throws std::system_error (EMFILE at kMaxStreams).
  std::uint64_t open(UniqueFd fd, bool follow, std::uint64_t credit);

  // Unknown or ended streams are ignored: a grant may cross a streamEnd.
  void grant(std::uint64_t stream, std::uint64_t bytes);
  // No events for `stream` follow. False if no such stream was ever opened.
  bool close(std::uint64_t stream);
  void resume_all();
  std::size_t size() const { return streams_.size(); }

 private:
  EventLoop& loop_;
  InotifyHub inotify_;
  std::vector<std::byte> scratch_;
  StreamContext context_;
  std::map<std::uint64_t, std::unique_ptr<ByteStream>> streams_;
  std::uint64_t next_id_ = 1;
  Liveness liveness_;
};

}  // namespace provium::agent
