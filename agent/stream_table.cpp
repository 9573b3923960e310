#include "stream_table.h"

#include <sys/stat.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace provium::agent {

StreamTable::StreamTable(EventLoop& loop, FrameChannel& channel)
    : loop_(loop),
      inotify_(loop),
      scratch_(kStreamChunkBytes),
      context_{loop, channel, inotify_, scratch_, [this](std::uint64_t stream) {
                 // The stream's own callback is on the stack: drop it afterwards.
                 loop_.defer(liveness_.guard([this, stream] { streams_.erase(stream); }));
               }} {}

std::uint64_t StreamTable::open(UniqueFd fd, bool follow, std::uint64_t credit) {
  if (streams_.size() >= kMaxStreams) {
    throw std::system_error(EMFILE, std::generic_category(),
                            std::to_string(kMaxStreams) + " streams are already open in this session");
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) throw std::system_error(errno, std::generic_category(), "fstat");
  ByteStream::Source source = ByteStream::Source::kPollable;
  if (S_ISREG(info.st_mode)) source = follow ? ByteStream::Source::kFileFollow : ByteStream::Source::kFileToEnd;
  const std::uint64_t id = next_id_++;
  streams_.emplace(id, std::make_unique<ByteStream>(context_, id, std::move(fd), source, credit));
  return id;
}

void StreamTable::grant(std::uint64_t stream, std::uint64_t bytes) {
  auto found = streams_.find(stream);
  if (found != streams_.end()) found->second->grant(bytes);
}

bool StreamTable::close(std::uint64_t stream) {
  streams_.erase(stream);
  return stream > 0 && stream < next_id_;
}

void StreamTable::resume_all() {
  for (auto& [id, stream] : streams_) stream->resume();
}

}  // namespace provium::agent

