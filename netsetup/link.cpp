#include "link.h"

#include <linux/if.h>
#include <sys/socket.h>

#include <stdexcept>

#include <fmt/format.h>
#include <netlink/errno.h>

#include "netlink_objects.h"

namespace provium::netsetup {
namespace {

// The kernel's current view of the link, or null when there is none.
LinkObject find_link(RouteSocket& route, const std::string& name) {
  rtnl_link* link = nullptr;
  const int error = rtnl_link_get_kernel(route.get(), 0, name.c_str(), &link);
  if (error == -NLE_OBJ_NOTFOUND || error == -NLE_NODEV) return nullptr;
  if (error < 0) throw std::runtime_error(netlink_error(fmt::format("link `{}`: get", name), error));
  return LinkObject(link);
}

LinkObject get_link(RouteSocket& route, const std::string& name) {
  LinkObject link = find_link(route, name);
  if (!link) throw std::runtime_error(fmt::format("link `{}`: no such interface", name));
  return link;
}

void change_link(RouteSocket& route, const std::string& name, const std::string& what,
                 void (*edit)(rtnl_link* change, int value), int value) {
  const LinkObject current = get_link(route, name);
  const LinkObject change(rtnl_link_alloc());
  if (!change) throw std::runtime_error(fmt::format("link `{}`: {}: out of memory", name, what));
  edit(change.get(), value);
  const int error = rtnl_link_change(route.get(), current.get(), change.get(), 0);
  if (error < 0) throw std::runtime_error(netlink_error(fmt::format("link `{}`: {}", name, what), error));
}

}  // namespace

bool link_exists(RouteSocket& route, const std::string& name) { return find_link(route, name) != nullptr; }

LinkState link_state(RouteSocket& route, const std::string& name) {
  const LinkObject link = get_link(route, name);
  const unsigned flags = rtnl_link_get_flags(link.get());
  return {.ifindex = rtnl_link_get_ifindex(link.get()),
          .up = (flags & IFF_UP) != 0,
          .lower_up = (flags & IFF_LOWER_UP) != 0,
          .master_ifindex = rtnl_link_get_master(link.get())};
}

LinkCounters link_counters(RouteSocket& route, const std::string& name) {
  const LinkObject link = get_link(route, name);
  const auto stat = [&](rtnl_link_stat_id_t id) { return rtnl_link_get_stat(link.get(), id); };
  return {.rx_bytes = stat(RTNL_LINK_RX_BYTES),
          .tx_bytes = stat(RTNL_LINK_TX_BYTES),
          .rx_packets = stat(RTNL_LINK_RX_PACKETS),
          .tx_packets = stat(RTNL_LINK_TX_PACKETS),
          .rx_errors = stat(RTNL_LINK_RX_ERRORS),
          .tx_errors = stat(RTNL_LINK_TX_ERRORS),
          .rx_dropped = stat(RTNL_LINK_RX_DROPPED),
          .tx_dropped = stat(RTNL_LINK_TX_DROPPED)};
}

std::set<std::string> bridge_ports(RouteSocket& route, int bridge_ifindex) {
  nl_cache* raw_cache = nullptr;
  const int error = rtnl_link_alloc_cache(route.get(), AF_UNSPEC, &raw_cache);
  if (error < 0) throw std::runtime_error(netlink_error(fmt::format("bridge #{}: list ports", bridge_ifindex), error));
  const CacheObject cache(raw_cache);
  std::set<std::string> ports;
  for (nl_object* object = nl_cache_get_first(cache.get()); object != nullptr; object = nl_cache_get_next(object)) {
    auto* link = reinterpret_cast<rtnl_link*>(object);
    if (rtnl_link_get_master(link) == bridge_ifindex && rtnl_link_get_name(link) != nullptr) {
      ports.insert(rtnl_link_get_name(link));
    }
  }
  return ports;
}

void set_link_up(RouteSocket& route, const std::string& name, bool up) {
  change_link(route, name, up ? "set up" : "set down",
              up ? [](rtnl_link* change, int) { rtnl_link_set_flags(change, IFF_UP); }
                 : [](rtnl_link* change, int) { rtnl_link_unset_flags(change, IFF_UP); },
              0);
}

void set_link_master(RouteSocket& route, const std::string& name, int master_ifindex) {
  change_link(route, name, fmt::format("attach to bridge #{}", master_ifindex),
              [](rtnl_link* change, int master) { rtnl_link_set_master(change, master); }, master_ifindex);
}

void delete_link(RouteSocket& route, const std::string& name) {
  const LinkObject link = get_link(route, name);
  const int error = rtnl_link_delete(route.get(), link.get());
  if (error < 0) throw std::runtime_error(netlink_error(fmt::format("link `{}`: delete", name), error));
}

}  // namespace provium::netsetup
