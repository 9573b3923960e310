// Captures the frames crossing one link of a namespace with an AF_PACKET
// socket (no tcpdump process). On a TAP it sees both directions of that
// guest's traffic; on a bridge, opened promiscuous, it sees every frame the
// bridge forwards between its ports as well as its own. The socket is
// non-blocking: wait for fd() to be readable, then drain() into a PcapWriter.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <kj/io.h>

#include "net_namespace.h"
#include "pcap_writer.h"

namespace provium::netsetup {

class PacketCapture {
 public:
  // Needs CAP_NET_RAW. Errors name the link.
  static PacketCapture open(const NetNamespace& ns, const std::string& link_name, std::uint32_t snap_length = 262144);

  int fd() const { return socket_.get(); }
  const std::string& link_name() const { return link_name_; }

  // Writes every frame waiting now to `out` and returns how many there were.
  std::size_t drain(PcapWriter& out);
  // Frames the kernel dropped because the socket's buffer was full.
  std::uint64_t dropped();

 private:
  PacketCapture(std::string link_name, kj::AutoCloseFd socket, std::uint32_t snap_length)
      : link_name_(std::move(link_name)), socket_(kj::mv(socket)), buffer_(snap_length) {}

  std::string link_name_;
  kj::AutoCloseFd socket_;
  std::vector<std::uint8_t> buffer_;
  std::uint64_t dropped_ = 0;
};

}  // namespace provium::netsetup
