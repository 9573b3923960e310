#include "frame_channel.h"

#include "log.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <exception>

namespace provium::agent {
namespace {

constexpr std::size_t kReadChunkBytes = 256 * 1024;
// How often a disconnected virtio port is checked for a returning host.
constexpr std::chrono::milliseconds kReconnectPollPeriod{25};

}  // namespace

FrameChannel::FrameChannel(EventLoop& loop, UniqueFd fd, Kind kind, Handlers handlers)
    : loop_(loop),
      fd_(std::move(fd)),
      kind_(kind),
      handlers_(std::move(handlers)),
      reconnect_poll_(loop),
      read_buffer_(kReadChunkBytes) {
  watch_ = loop_.watch(fd_.get(), EPOLLIN, [this](std::uint32_t events) { on_events(events); });
}

void FrameChannel::send(OutboundFrame frame) {
  if (!connected_) return;
  queued_bytes_ += frame.remaining_bytes();
  if (queued_bytes_ >= kCongestedBytes) congested_ = true;
  outbound_.push_back(std::move(frame));
  // Try at once: most responses are small and the fd is usually writable,
  // which saves an epoll round trip per response.
  write_pending();
}

void FrameChannel::drop_unstarted_frames() {
  if (outbound_.empty()) return;
  const bool front_started = outbound_.front().remaining_bytes() < outbound_.front().total_bytes();
  outbound_.erase(outbound_.begin() + (front_started ? 1 : 0), outbound_.end());
  queued_bytes_ = outbound_.empty() ? 0 : outbound_.front().remaining_bytes();
  note_written(0);
  update_interest();
}

void FrameChannel::set_reading(bool reading) {
  if (reading_ == reading) return;
  reading_ = reading;
  update_interest();
}

void FrameChannel::note_written(std::size_t bytes) {
  queued_bytes_ -= std::min(bytes, queued_bytes_);
  if (congested_ && queued_bytes_ <= kRoomBytes) {
    congested_ = false;
    if (handlers_.on_room) handlers_.on_room();
  }
}

void FrameChannel::on_events(std::uint32_t events) {
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_available();
  if (connected_ && (events & EPOLLOUT)) write_pending();
}

void FrameChannel::read_available() {
  // One bounded chunk per turn keeps other fds (children's pipes) served;
  // level-triggered epoll brings us back while more is pending.
  const ssize_t got = ::read(fd_.get(), read_buffer_.data(), read_buffer_.size());
  if (got < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    // A reset is just the peer going away with our last frame unread.
    if (errno != ECONNRESET) log_errno("read from the channel", errno);
    lose_connection();
    return;
  }
  if (got == 0) {
    lose_connection();
    return;
  }
  decoder_.feed(read_buffer_.data(), static_cast<std::size_t>(got));
  for (;;) {
    std::optional<kj::Array<capnp::word>> body;
    try {
      body = decoder_.next();
    } catch (const std::exception& e) {
      // Framing is lost for good in this stream position; start over with
      // whatever the host sends next.
      decoder_ = frame::Decoder();
      handlers_.on_garbage(e.what());
      return;
    }
    if (!body) return;
    handlers_.on_frame(std::move(*body));
    if (!connected_) return;
  }
}

void FrameChannel::write_pending() {
  constexpr int kMaxIovecs = 64;
  iovec iov[kMaxIovecs];
  while (!outbound_.empty()) {
    int count = 0;
    for (auto& frame : outbound_) {
      if (count == kMaxIovecs) break;
      count += frame.pending_iovecs(iov + count, kMaxIovecs - count);
    }
    const ssize_t wrote = ::writev(fd_.get(), iov, count);
    if (wrote < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      if (errno != EPIPE && errno != ECONNRESET) log_errno("write to the channel", errno);
      lose_connection();
      return;
    }
    auto written = static_cast<std::size_t>(wrote);
    note_written(written);
    while (written > 0) {
      OutboundFrame& front = outbound_.front();
      const std::size_t step = std::min(written, front.remaining_bytes());
      front.advance(step);
      written -= step;
      if (front.finished()) outbound_.pop_front();
    }
  }
  update_interest();
  if (outbound_.empty() && handlers_.on_drained) handlers_.on_drained();
}

void FrameChannel::update_interest() {
  if (!connected_) return;
  // Paused input is still read on a hang-up (epoll reports one regardless), so
  // the peer's last frames and its end of stream are not lost.
  const std::uint32_t input = reading_ ? std::uint32_t{EPOLLIN} : 0u;
  watch_.set_events(outbound_.empty() ? input : (input | EPOLLOUT));
}

void FrameChannel::lose_connection() {
  if (!connected_) return;
  connected_ = false;
  outbound_.clear();
  queued_bytes_ = 0;
  congested_ = false;
  decoder_ = frame::Decoder();
  watch_.reset();
  if (kind_ == Kind::kVirtioPort) {
    reconnect_poll_.start(kReconnectPollPeriod, [this] { poll_for_host(); });
  }
  handlers_.on_disconnected();
}

void FrameChannel::poll_for_host() {
  pollfd probe{fd_.get(), POLLIN, 0};
  if (::poll(&probe, 1, 0) < 0) return;
  // virtio_console reports POLLHUP exactly while no host is attached.
  if (probe.revents & POLLHUP) return;
  reconnect_poll_.cancel();
  connected_ = true;
  watch_ = loop_.watch(fd_.get(), EPOLLIN, [this](std::uint32_t events) { on_events(events); });
  if (handlers_.on_connected) handlers_.on_connected();
}

}  // namespace provium::agent
