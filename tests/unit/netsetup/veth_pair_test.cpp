// veth pairs with their peers in child namespaces, as two hosts on the
// file's bridge exchanging real UDP datagrams through it.
#include "veth_pair.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "bridge.h"
#include "ipv4_address.h"
#include "kernel_fixture.h"
#include "link.h"

namespace provium::netsetup {
namespace {

kj::AutoCloseFd udp_socket_in(const NetNamespace& ns, const char* address, std::uint16_t port) {
  return ns.run_inside([&] {
    kj::AutoCloseFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd.get() < 0) throw std::runtime_error("udp socket");
    sockaddr_in local{.sin_family = AF_INET, .sin_port = htons(port)};
    ::inet_pton(AF_INET, address, &local.sin_addr);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
      throw std::runtime_error(std::string("udp bind ") + address);
    }
    return fd;
  });
}

// Sends `message` from `from` to address:port every 100 ms until `to` reads
// it (the first may wait for ARP), within 60 s. Returns what `to` read.
std::string exchange(int from, int to, const char* address, std::uint16_t port, const std::string& message) {
  sockaddr_in destination{.sin_family = AF_INET, .sin_port = htons(port)};
  ::inet_pton(AF_INET, address, &destination.sin_addr);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    ::sendto(from, message.data(), message.size(), 0, reinterpret_cast<const sockaddr*>(&destination),
             sizeof destination);
    pollfd readable{.fd = to, .events = POLLIN};
    if (::poll(&readable, 1, 100) == 1) {
      char buffer[256];
      const ssize_t length = ::recv(to, buffer, sizeof buffer, 0);
      if (length > 0) return std::string(buffer, static_cast<std::size_t>(length));
    }
  }
  return "";
}

TEST(VethPair, TwoHostsOnTheBridgeExchangeDatagrams) {
  PROVIUM_SKIP_WITHOUT_KERNEL_DATAPATH();
  const NetNamespace file = NetNamespace::create();
  const NetNamespace host_x = NetNamespace::create();
  const NetNamespace host_y = NetNamespace::create();
  const Bridge lan = Bridge::create(file, "lan");
  const VethPair to_x = VethPair::create(file, "veth-x", host_x.fd(), "eth0");
  const VethPair to_y = VethPair::create(file, "veth-y", host_y.fd(), "eth0");
  for (const auto* pair : {&to_x, &to_y}) {
    set_link_master(file.route(), pair->name(), lan.ifindex());
    set_link_up(file.route(), pair->name(), true);
  }
  EXPECT_EQ(link_state(file.route(), "veth-x").master_ifindex, lan.ifindex());
  EXPECT_FALSE(link_exists(file.route(), "eth0"));  // the peers live elsewhere
  add_ipv4_address(host_x.route(), "eth0", "10.9.0.1/24");
  add_ipv4_address(host_y.route(), "eth0", "10.9.0.2/24");
  set_link_up(host_x.route(), "eth0", true);
  set_link_up(host_y.route(), "eth0", true);

  const kj::AutoCloseFd x = udp_socket_in(host_x, "10.9.0.1", 7000);
  const kj::AutoCloseFd y = udp_socket_in(host_y, "10.9.0.2", 7000);
  EXPECT_EQ(exchange(x.get(), y.get(), "10.9.0.2", 7000, "ping from x"), "ping from x");
  EXPECT_EQ(exchange(y.get(), x.get(), "10.9.0.1", 7000, "pong from y"), "pong from y");
  EXPECT_GT(link_counters(file.route(), "veth-x").rx_packets, 0u);
  EXPECT_GT(link_counters(file.route(), "veth-y").tx_packets, 0u);
}

TEST(VethPair, DeletingThePairRemovesThePeerToo) {
  PROVIUM_SKIP_WITHOUT_KERNEL_DATAPATH();
  const NetNamespace file = NetNamespace::create();
  const NetNamespace other = NetNamespace::create();
  {
    const VethPair pair = VethPair::create(file, "uplink", other.fd(), "peer");
    EXPECT_TRUE(link_exists(file.route(), "uplink"));
    EXPECT_TRUE(link_exists(other.route(), "peer"));
  }
  EXPECT_FALSE(link_exists(file.route(), "uplink"));
  EXPECT_FALSE(link_exists(other.route(), "peer"));
}

TEST(VethPair, ABadAddressIsRefusedWithTheLinkAndTheAddress) {
  PROVIUM_SKIP_WITHOUT_KERNEL_DATAPATH();
  const NetNamespace file = NetNamespace::create();
  const VethPair pair = VethPair::create(file, "v0", file.fd(), "v1");
  try {
    add_ipv4_address(file.route(), "v0", "10.9.0.1");
    ADD_FAILURE() << "an address without a prefix was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "link `v0`: add address 10.9.0.1: expected ADDRESS/PREFIX");
  }
}

}  // namespace
}  // namespace provium::netsetup
