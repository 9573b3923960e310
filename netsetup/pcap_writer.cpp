#include "pcap_writer.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace provium::netsetup {
namespace {

struct GlobalHeader {
  std::uint32_t magic;
  std::uint16_t version_major;
  std::uint16_t version_minor;
  std::int32_t this_zone;
  std::uint32_t sigfigs;
  std::uint32_t snap_length;
  std::uint32_t link_type;
};
static_assert(sizeof(GlobalHeader) == 24);

struct RecordHeader {
  std::uint32_t seconds;
  std::uint32_t microseconds;
  std::uint32_t captured_length;
  std::uint32_t original_length;
};
static_assert(sizeof(RecordHeader) == 16);

}  // namespace

PcapWriter::PcapWriter(kj::AutoCloseFd fd, std::uint32_t snap_length, int cancel_fd)
    : fd_(kj::mv(fd)), snap_length_(snap_length), cancel_fd_(cancel_fd) {
  if (snap_length_ == 0) throw std::invalid_argument("pcap: snap length must be positive");
  const GlobalHeader header{.magic = kPcapMagicMicroseconds,
                            .version_major = 2,
                            .version_minor = 4,
                            .this_zone = 0,
                            .sigfigs = 0,
                            .snap_length = snap_length_,
                            .link_type = kPcapLinkTypeEthernet};
  write_all(&header, sizeof header);
}

void PcapWriter::write(const timeval& timestamp, std::span<const std::uint8_t> frame, std::uint32_t original_length) {
  const auto captured = static_cast<std::uint32_t>(std::min<std::size_t>(frame.size(), snap_length_));
  const RecordHeader header{.seconds = static_cast<std::uint32_t>(timestamp.tv_sec),
                            .microseconds = static_cast<std::uint32_t>(timestamp.tv_usec),
                            .captured_length = captured,
                            .original_length = std::max(original_length, captured)};
  write_all(&header, sizeof header);
  write_all(frame.data(), captured);
  ++packets_written_;
}

void PcapWriter::write_all(const void* data, std::size_t size) {
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  while (size > 0) {
    const ssize_t written = ::write(fd_.get(), bytes, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        wait_writable();
        continue;
      }
      throw std::runtime_error(fmt::format("pcap: write: {}", strerror(errno)));
    }
    bytes += written;
    size -= static_cast<std::size_t>(written);
  }
}

void PcapWriter::wait_writable() {
  pollfd watched[2] = {{.fd = fd_.get(), .events = POLLOUT, .revents = 0},
                       {.fd = cancel_fd_, .events = POLLIN, .revents = 0}};
  for (;;) {
    const int ready = ::poll(watched, cancel_fd_ >= 0 ? 2 : 1, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw std::runtime_error(fmt::format("pcap: poll: {}", strerror(errno)));
    if (cancel_fd_ >= 0 && (watched[1].revents & POLLIN) != 0) throw std::runtime_error("pcap: write cancelled");
    return;  // writable, or an error the next write() reports
  }
}

}  // namespace provium::netsetup
