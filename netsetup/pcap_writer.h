// Writes the classic pcap file format (what tcpdump -w writes and every
// packet tool reads): a 24-byte global header, then one 16-byte record
// header and the frame bytes per packet. Ethernet link type, microsecond
// timestamps, native byte order (readers detect it from the magic).
#pragma once

#include <cstdint>
#include <span>

#include <sys/time.h>

#include <kj/io.h>

namespace provium::netsetup {

inline constexpr std::uint32_t kPcapMagicMicroseconds = 0xa1b2c3d4;
inline constexpr std::uint32_t kPcapLinkTypeEthernet = 1;

class PcapWriter {
 public:
  // Takes `fd` (a file, a pipe) and writes the global header to it at once.
  // A non-blocking `fd` is waited on when full; then `cancel_fd` (an
  // eventfd, say), once readable, makes the waiting write throw instead.
  PcapWriter(kj::AutoCloseFd fd, std::uint32_t snap_length, int cancel_fd = -1);

  // `frame` is the captured part (at most snap_length bytes); `original_length`
  // how long the frame was on the wire.
  void write(const timeval& timestamp, std::span<const std::uint8_t> frame, std::uint32_t original_length);

  std::uint32_t snap_length() const { return snap_length_; }
  std::uint64_t packets_written() const { return packets_written_; }

 private:
  void write_all(const void* data, std::size_t size);
  void wait_writable();

  kj::AutoCloseFd fd_;
  std::uint32_t snap_length_;
  int cancel_fd_ = -1;
  std::uint64_t packets_written_ = 0;
};

}  // namespace provium::netsetup
