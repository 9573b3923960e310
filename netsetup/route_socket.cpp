#include "route_socket.h"

#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

namespace provium::netsetup {

RouteSocket RouteSocket::open() {
  nl_sock* socket = nl_socket_alloc();
  if (socket == nullptr) throw std::runtime_error("netlink: cannot allocate a socket");
  const int error = nl_connect(socket, NETLINK_ROUTE);
  if (error < 0) {
    nl_socket_free(socket);
    throw std::runtime_error(netlink_error("netlink: connect NETLINK_ROUTE", error));
  }
  return RouteSocket(socket);
}

RouteSocket::RouteSocket(RouteSocket&& other) noexcept : socket_(std::exchange(other.socket_, nullptr)) {}

RouteSocket& RouteSocket::operator=(RouteSocket&& other) noexcept {
  if (this != &other) {
    if (socket_ != nullptr) nl_socket_free(socket_);
    socket_ = std::exchange(other.socket_, nullptr);
  }
  return *this;
}

RouteSocket::~RouteSocket() {
  if (socket_ != nullptr) nl_socket_free(socket_);
}

std::string netlink_error(const std::string& what, int error) {
  return fmt::format("{}: {}", what, nl_geterror(error));
}

}  // namespace provium::netsetup
