#include "byte_stream.h"

#include "responses.h"

#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace provium::agent {
namespace wire = provium::wire::agent;

ByteStream::ByteStream(StreamContext& context, std::uint64_t id, UniqueFd fd, Source source, std::uint64_t credit)
    : context_(context), id_(id), source_(source), credit_(credit), fd_(std::move(fd)) {
  if (source_ != Source::kPollable) {
    const off_t start = ::lseek(fd_.get(), 0, SEEK_CUR);
    position_ = start > 0 ? static_cast<std::uint64_t>(start) : 0;
    ready_.emplace(context_.loop, [this] { pump(); });
  }
  if (source_ == Source::kFileFollow) {
    changes_ = context_.inotify.subscribe(fd_.get(), [this] {
      waiting_for_change_ = false;
      schedule();
    });
  }
  schedule();
}

void ByteStream::grant(std::uint64_t bytes) {
  credit_ = bytes > std::numeric_limits<std::uint64_t>::max() - credit_ ? std::numeric_limits<std::uint64_t>::max()
                                                                        : credit_ + bytes;
  schedule();
}

bool ByteStream::can_send() const { return !ended_ && credit_ > 0 && context_.channel.has_room(); }

void ByteStream::schedule() {
  if (source_ == Source::kPollable) {
    // Unregistered rather than masked while idle: epoll reports a hang-up even
    // with no events asked for, which would spin the loop.
    if (can_send() && !readable_.active()) {
      readable_ = context_.loop.watch(fd_.get(), EPOLLIN, [this](std::uint32_t) { pump(); });
    } else if (!can_send()) {
      readable_.reset();
    }
    return;
  }
  if (can_send() && !waiting_for_change_) {
    ready_->raise();
  } else {
    ready_->lower();
  }
}

void ByteStream::pump() {
  if (!can_send()) {
    schedule();
    return;
  }
  const std::size_t wanted = static_cast<std::size_t>(std::min<std::uint64_t>(credit_, context_.scratch.size()));
  const ssize_t got = ::read(fd_.get(), context_.scratch.data(), wanted);
  if (got > 0) {
    const auto bytes = static_cast<std::size_t>(got);
    credit_ -= bytes;
    position_ += bytes;
    context_.channel.send(stream_data_event(id_, context_.scratch.data(), bytes, after_truncation_));
    after_truncation_ = false;
    schedule();
    return;
  }
  if (got == 0) {
    handle_end_of_data();
    return;
  }
  if (errno == EINTR) {
    schedule();
  } else if (errno != EAGAIN) {
    const int error_number = errno;
    end(wire::StreamEndReason::FAILED, error_number, "stream " + std::to_string(id_) + ": read failed: " +
                                                         std::strerror(error_number));
  }
  // EAGAIN: a pollable source woke us for nothing; epoll calls again.
}

void ByteStream::handle_end_of_data() {
  if (source_ != Source::kFileFollow) {
    end(wire::StreamEndReason::SOURCE_ENDED, 0, "");
    return;
  }
  if (file_shrank()) {
    // Truncated (or rewritten shorter): what is there now starts at 0.
    ::lseek(fd_.get(), 0, SEEK_SET);
    position_ = 0;
    after_truncation_ = true;
    schedule();
    return;
  }
  // At the end for now. An append made since the read is not missed: its
  // inotify event is still queued and will wake us.
  waiting_for_change_ = true;
  schedule();
}

bool ByteStream::file_shrank() const {
  struct stat info {};
  return ::fstat(fd_.get(), &info) == 0 && static_cast<std::uint64_t>(info.st_size) < position_;
}

void ByteStream::end(wire::StreamEndReason reason, int error_number, const std::string& message) {
  if (ended_) return;
  ended_ = true;
  readable_.reset();
  changes_.reset();
  if (ready_) ready_->lower();
  context_.channel.send(stream_end_event(id_, reason, error_number, message));
  context_.on_ended(id_);
}

}  // namespace provium::agent
