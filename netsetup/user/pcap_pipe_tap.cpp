#include "pcap_pipe_tap.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

namespace provium::net {
namespace {

constexpr std::uint32_t kMagicMicroseconds = 0xa1b2c3d4;
constexpr std::uint32_t kLinkTypeEthernet = 1;
constexpr std::uint32_t kSnapLength = 65535;
constexpr std::size_t kRecordHeaderBytes = 16;
// Room for a burst the reader has not caught up with yet.
constexpr int kPipeBytes = 1 << 20;

void append_u32(std::vector<std::uint8_t>& out, std::uint32_t value) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(&value);  // native order: the magic tells readers
  out.insert(out.end(), bytes, bytes + sizeof value);
}

void append_u16(std::vector<std::uint8_t>& out, std::uint16_t value) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(&value);
  out.insert(out.end(), bytes, bytes + sizeof value);
}

}  // namespace

PcapPipeTap::PcapPipeTap(OwnedFd& read_end) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::system_error(errno, std::generic_category(), "capture: pipe");
  }
  read_end = OwnedFd(ends[0]);
  write_end_ = OwnedFd(ends[1]);
  (void)::fcntl(write_end_.get(), F_SETPIPE_SZ, kPipeBytes);  // best effort: the default size still works
  // The reader's end blocks like any file; only our writes must not.
  ::fcntl(ends[0], F_SETFL, ::fcntl(ends[0], F_GETFL) & ~O_NONBLOCK);
  std::vector<std::uint8_t> header;
  append_u32(header, kMagicMicroseconds);
  append_u16(header, 2);  // version 2.4
  append_u16(header, 4);
  append_u32(header, 0);  // thiszone
  append_u32(header, 0);  // sigfigs
  append_u32(header, kSnapLength);
  append_u32(header, kLinkTypeEthernet);
  if (::write(write_end_.get(), header.data(), header.size()) != static_cast<ssize_t>(header.size())) {
    throw std::system_error(errno, std::generic_category(), "capture: pcap header");
  }
}

void PcapPipeTap::on_frame(std::chrono::system_clock::time_point when, std::span<const std::uint8_t> frame) {
  if (reader_gone_) return;
  if (frame.size() + kRecordHeaderBytes > PIPE_BUF) {  // cannot be written atomically; never seen on 1500-MTU NICs
    dropped_++;
    return;
  }
  const auto since_epoch = std::chrono::duration_cast<std::chrono::microseconds>(when.time_since_epoch()).count();
  std::vector<std::uint8_t> record;
  record.reserve(kRecordHeaderBytes + frame.size());
  append_u32(record, static_cast<std::uint32_t>(since_epoch / 1000000));
  append_u32(record, static_cast<std::uint32_t>(since_epoch % 1000000));
  append_u32(record, static_cast<std::uint32_t>(frame.size()));
  append_u32(record, static_cast<std::uint32_t>(frame.size()));
  record.insert(record.end(), frame.begin(), frame.end());
  if (::write(write_end_.get(), record.data(), record.size()) < 0) {
    if (errno == EPIPE) {
      reader_gone_ = true;
      write_end_.reset();
    } else {
      dropped_++;
    }
  }
}

}  // namespace provium::net
