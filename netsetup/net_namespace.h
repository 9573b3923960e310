// A network namespace of its own, owned by an fd. Each test file gets one, so
// its bridges and TAPs never collide with another file's or the host's, and
// everything in it (links, qdiscs, nftables tables) goes away with it, even
// when the supervisor dies: the kernel frees a namespace once the last fd,
// socket and process holding it are gone.
//
// The namespace is made on a short-lived thread (unshare(CLONE_NEWNET)), so
// the supervisor's own threads never leave the host namespace. Work that has
// to happen inside it (opening /dev/net/tun, packet sockets, libnftables)
// runs through run_inside(), again on a short-lived thread that setns()es in.
// Netlink sockets opened inside stay bound to it (see route_socket.h).
//
// A NetNamespace is a shared handle: copies refer to the same namespace, and
// the objects made in it (Bridge, TapDevice, ...) hold a copy, so the
// namespace lives as long as anything made in it.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include <kj/io.h>

#include "route_socket.h"

namespace provium::netsetup {

class NetNamespace {
 public:
  // A new, empty namespace (only `lo`, down). IPv6 is off by default on the
  // links made in it: bridges and TAPs are layer-2 plumbing, and a host-side
  // IPv6 stack would put its own router solicitations and MLD reports on
  // every bridge. Throws with the reason (usually EPERM without CAP_SYS_ADMIN).
  static NetNamespace create();

  // The nsfs fd (e.g. for IFLA_NET_NS_FD, or a child's setns).
  int fd() const { return state_->namespace_fd.get(); }
  // The netlink socket opened inside this namespace.
  RouteSocket& route() const { return state_->route; }

  // Runs `fn` on a new thread that has joined this namespace, waits for it,
  // and returns its result or rethrows its exception.
  template <typename Fn>
  auto run_inside(Fn&& fn) const {
    using Result = std::invoke_result_t<Fn&>;
    if constexpr (std::is_void_v<Result>) {
      run_on_thread_inside([&] { fn(); });
    } else {
      std::optional<Result> result;
      run_on_thread_inside([&] { result.emplace(fn()); });
      return std::move(*result);
    }
  }

 private:
  struct State {
    kj::AutoCloseFd namespace_fd;
    mutable RouteSocket route;
  };
  explicit NetNamespace(std::shared_ptr<State> state) : state_(std::move(state)) {}
  void run_on_thread_inside(const std::function<void()>& body) const;

  std::shared_ptr<State> state_;
};

}  // namespace provium::netsetup
