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
  outbound_.push_back(std::move(frame));
  // Try at once: most responses are small and the fd is usually writable,
  // which saves an epoll round trip per response.
  write_pending();
}

void FrameChannel::drop_unstarted_frames() {
  if (outbound_.empty()) return;
  const bool front_started = outbound_.front().remaining_bytes() < outbound_.front().total_bytes();
  outbound_.erase(outbound_.begin() + (front_started ? 1 : 0), outbound_.end());
  update_interest();
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
    log_errno("read from host channel", errno);
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
      if (errno != EPIPE && errno != ECONNRESET) log_errno("write to host channel", errno);
      lose_connection();
      return;
    }
    auto written = static_cast<std::size_t>(wrote);
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
  watch_.set_events(outbound_.empty() ? EPOLLIN : (EPOLLIN | EPOLLOUT));
}

void FrameChannel::lose_connection() {
  if (!connected_) return;
  connected_ = false;
  outbound_.clear();
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
