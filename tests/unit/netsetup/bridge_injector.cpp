#include "bridge_injector.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "link.h"

namespace provium::netsetup::testing {

BridgeInjector::BridgeInjector(const NetNamespace& ns, const std::string& bridge_name)
    : ifindex_(link_state(ns.route(), bridge_name).ifindex) {
  socket_ = ns.run_inside([] {
    const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);  // protocol 0: sends only
    if (fd < 0) throw std::runtime_error(std::string("injector: socket(AF_PACKET): ") + strerror(errno));
    return kj::AutoCloseFd(fd);
  });
}

int BridgeInjector::send(const TestFrame& frame) {
  const auto bytes = encode_frame(frame);
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = ifindex_;
  to.sll_halen = ETH_ALEN;
  const Mac mac = endpoint_mac(frame.to);
  std::memcpy(to.sll_addr, mac.data(), mac.size());
  const ssize_t sent =
      ::sendto(socket_.get(), bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  return sent == static_cast<ssize_t>(bytes.size()) ? 0 : (sent < 0 ? errno : EMSGSIZE);
}

}  // namespace provium::netsetup::testing
