#include "tap_endpoint.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <chrono>
#include <stdexcept>

#include <gtest/gtest.h>

namespace provium::netsetup::testing {

TapEndpoint::TapEndpoint(const TapDevice& tap, std::uint8_t id) : TapEndpoint(tap.fd(), tap.name(), id) {}

TapEndpoint::TapEndpoint(int fd, std::string name, std::uint8_t id) : fd_(fd), id_(id), name_(std::move(name)) {
  const int flags = ::fcntl(fd_, F_GETFL);
  ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
}

int TapEndpoint::send(const TestFrame& frame, std::size_t size) {
  const auto bytes = encode_frame(frame, size);
  const ssize_t written = ::write(fd_, bytes.data(), bytes.size());
  return written == static_cast<ssize_t>(bytes.size()) ? 0 : (written < 0 ? errno : EMSGSIZE);
}

void TapEndpoint::send_data(const TapEndpoint& to, std::uint32_t count, std::size_t size) {
  for (std::uint32_t sequence = 0; sequence < count; ++sequence) {
    const int error = send({.from = id_, .to = to.id(), .kind = FrameKind::data, .sequence = sequence}, size);
    ASSERT_EQ(error, 0) << name_ << ": write frame " << sequence << ": " << strerror(error);
  }
}

std::size_t TapEndpoint::Received::count_from(const TapEndpoint& sender) const {
  const auto found = data_from.find(sender.id());
  return found == data_from.end() ? 0 : found->second.size();
}

TapEndpoint::Received TapEndpoint::receive_until_sentinel(std::uint32_t sequence,
                                                          const std::function<void()>& send_sentinel) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  Received received;
  std::vector<std::uint8_t> buffer(65536);
  send_sentinel();
  auto next_resend = Clock::now() + std::chrono::milliseconds(100);
  while (Clock::now() < deadline) {
    const ssize_t length = ::read(fd_, buffer.data(), buffer.size());
    if (length < 0) {
      if (errno != EAGAIN) throw std::runtime_error(name_ + ": read: " + strerror(errno));
      if (Clock::now() >= next_resend) {
        send_sentinel();
        next_resend = Clock::now() + std::chrono::milliseconds(100);
      }
      pollfd readable{.fd = fd_, .events = POLLIN};
      ::poll(&readable, 1, 100);
      continue;
    }
    const auto frame = decode_frame({buffer.data(), static_cast<std::size_t>(length)});
    if (!frame || frame->to != id_) continue;
    if (frame->kind == FrameKind::sentinel) {
      if (frame->sequence == sequence) return received;
      continue;  // a resent copy of an earlier sentinel
    }
    received.data_from[frame->from].push_back(frame->sequence);
  }
  ADD_FAILURE() << name_ << ": sentinel " << sequence << " did not arrive within 60 s";
  throw std::runtime_error("sentinel lost");
}

}  // namespace provium::netsetup::testing
