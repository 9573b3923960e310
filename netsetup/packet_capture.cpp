#include "packet_capture.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "link.h"

namespace provium::netsetup {

PacketCapture PacketCapture::open(const NetNamespace& ns, const std::string& link_name, std::uint32_t snap_length) {
  const std::string what = fmt::format("capture on `{}`", link_name);
  if (snap_length < ETH_HLEN) throw std::invalid_argument(what + ": snap length below an Ethernet header");
  const int ifindex = link_state(ns.route(), link_name).ifindex;
  const auto fail = [&](const char* step) {
    return std::runtime_error(fmt::format("{}: {}: {}", what, step, strerror(errno)));
  };
  // A packet socket belongs to the namespace it was created in.
  kj::AutoCloseFd socket = ns.run_inside([&] {
    // Protocol 0 until bound: nothing from other links is queued meanwhile.
    const int raw = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (raw < 0) throw fail("socket(AF_PACKET)");
    return kj::AutoCloseFd(raw);
  });
  const int on = 1;
  if (::setsockopt(socket.get(), SOL_SOCKET, SO_TIMESTAMP, &on, sizeof on) != 0) throw fail("SO_TIMESTAMP");
  packet_mreq promiscuous{};
  promiscuous.mr_ifindex = ifindex;
  promiscuous.mr_type = PACKET_MR_PROMISC;
  // A bridge passes the frames it forwards up to its own device only when
  // that device is promiscuous.
  if (::setsockopt(socket.get(), SOL_PACKET, PACKET_ADD_MEMBERSHIP, &promiscuous, sizeof promiscuous) != 0) {
    throw fail("PACKET_ADD_MEMBERSHIP promiscuous");
  }
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = ifindex;
  if (::bind(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) throw fail("bind");
  return PacketCapture(link_name, kj::mv(socket), snap_length);
}

std::size_t PacketCapture::drain(PcapWriter& out) {
  std::size_t frames = 0;
  for (;;) {
    iovec data{.iov_base = buffer_.data(), .iov_len = buffer_.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timeval))];
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    // MSG_TRUNC: the frame's real length even when it did not fit.
    const ssize_t length = ::recvmsg(socket_.get(), &message, MSG_TRUNC | MSG_DONTWAIT);
    if (length < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return frames;
      throw std::runtime_error(fmt::format("capture on `{}`: recvmsg: {}", link_name_, strerror(errno)));
    }
    timeval timestamp{};
    for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr; header = CMSG_NXTHDR(&message, header)) {
      if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_TIMESTAMP) {
        std::memcpy(&timestamp, CMSG_DATA(header), sizeof timestamp);
      }
    }
    if (timestamp.tv_sec == 0) ::gettimeofday(&timestamp, nullptr);
    const auto captured = std::min<std::size_t>(static_cast<std::size_t>(length), buffer_.size());
    out.write(timestamp, {buffer_.data(), captured}, static_cast<std::uint32_t>(length));
    ++frames;
  }
}

std::uint64_t PacketCapture::dropped() {
  tpacket_stats stats{};
  socklen_t size = sizeof stats;
  // The kernel resets its counters on every read.
  if (::getsockopt(socket_.get(), SOL_PACKET, PACKET_STATISTICS, &stats, &size) == 0) dropped_ += stats.tp_drops;
  return dropped_;
}

}  // namespace provium::netsetup
