// A NETLINK_ROUTE socket (libnl). A netlink socket talks to the network
// namespace it was opened in for its whole life, whichever thread uses it
// later, so a RouteSocket opened inside a namespace is that namespace's
// handle for links, addresses and qdiscs. Not for use from two threads at once.
#pragma once

#include <string>

struct nl_sock;

namespace provium::netsetup {

class RouteSocket {
 public:
  // Opens and connects a socket in the calling thread's network namespace.
  static RouteSocket open();

  RouteSocket(RouteSocket&& other) noexcept;
  RouteSocket& operator=(RouteSocket&& other) noexcept;
  RouteSocket(const RouteSocket&) = delete;
  RouteSocket& operator=(const RouteSocket&) = delete;
  ~RouteSocket();

  nl_sock* get() const { return socket_; }

 private:
  explicit RouteSocket(nl_sock* socket) : socket_(socket) {}
  nl_sock* socket_ = nullptr;
};

// "what: libnl's text for `error`" for a negative libnl return code.
std::string netlink_error(const std::string& what, int error);

}  // namespace provium::netsetup
