#include "bridge.h"

#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <netlink/route/link/bridge.h>

#include "interface_name.h"
#include "link.h"
#include "netlink_objects.h"

namespace provium::netsetup {

Bridge Bridge::create(const NetNamespace& ns, const std::string& name) {
  check_interface_name(name, "bridge name");
  const LinkObject link(rtnl_link_bridge_alloc());
  if (!link) throw std::runtime_error(fmt::format("bridge `{}`: out of memory", name));
  rtnl_link_set_name(link.get(), name.c_str());
  const int error = rtnl_link_add(ns.route().get(), link.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (error < 0) throw std::runtime_error(netlink_error(fmt::format("bridge `{}`: create", name), error));
  Bridge bridge(ns, name, link_state(ns.route(), name).ifindex);
  set_link_up(ns.route(), name, true);
  return bridge;
}

Bridge::Bridge(Bridge&& other) noexcept
    : ns_(other.ns_), name_(std::move(other.name_)), ifindex_(std::exchange(other.ifindex_, 0)) {}

Bridge::~Bridge() {
  if (ifindex_ == 0) return;
  try {
    delete_link(ns_.route(), name_);
  } catch (const std::exception&) {
    // Already gone; the namespace takes whatever is left with it anyway.
  }
}

}  // namespace provium::netsetup
