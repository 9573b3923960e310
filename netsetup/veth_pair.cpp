#include "veth_pair.h"

#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <netlink/route/link/veth.h>

#include "interface_name.h"
#include "link.h"
#include "netlink_objects.h"

namespace provium::netsetup {

VethPair VethPair::create(const NetNamespace& ns, const std::string& name, int peer_namespace_fd,
                          const std::string& peer_name) {
  check_interface_name(name, "veth name");
  check_interface_name(peer_name, "veth peer name");
  const std::string what = fmt::format("veth `{}` <-> `{}`", name, peer_name);
  const LinkObject link(rtnl_link_veth_alloc());
  if (!link) throw std::runtime_error(what + ": out of memory");
  rtnl_link_set_name(link.get(), name.c_str());
  {
    // get_peer takes a reference; the pair frees the peer with itself.
    const LinkObject peer(rtnl_link_veth_get_peer(link.get()));
    rtnl_link_set_name(peer.get(), peer_name.c_str());
    rtnl_link_set_ns_fd(peer.get(), peer_namespace_fd);
  }
  const int error = rtnl_link_add(ns.route().get(), link.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (error < 0) throw std::runtime_error(netlink_error(what + ": create", error));
  return VethPair(ns, name, peer_name);
}

VethPair::VethPair(VethPair&& other) noexcept
    : ns_(other.ns_), name_(std::move(other.name_)), peer_name_(std::move(other.peer_name_)),
      owned_(std::exchange(other.owned_, false)) {}

VethPair::~VethPair() {
  if (!owned_) return;
  try {
    delete_link(ns_.route(), name_);
  } catch (const std::exception&) {
    // Already gone (with its peer's namespace, say).
  }
}

}  // namespace provium::netsetup
