#include "ipv4_route.h"

#include <sys/socket.h>

#include <memory>
#include <stdexcept>

#include <fmt/format.h>
#include <netlink/addr.h>
#include <netlink/route/route.h>

#include "link.h"

namespace provium::netsetup {
namespace {

struct NetlinkAddressRelease {
  void operator()(nl_addr* address) const { nl_addr_put(address); }
};
struct RouteRelease {
  void operator()(rtnl_route* route) const { rtnl_route_put(route); }
};

std::unique_ptr<nl_addr, NetlinkAddressRelease> parse(const std::string& text, const std::string& what) {
  nl_addr* parsed = nullptr;
  const int error = nl_addr_parse(text.c_str(), AF_INET, &parsed);
  if (error < 0) throw std::invalid_argument(netlink_error(what, error));
  return std::unique_ptr<nl_addr, NetlinkAddressRelease>(parsed);
}

}  // namespace

void add_default_route(RouteSocket& route, const std::string& link_name, const std::string& gateway) {
  const std::string what = fmt::format("default route via {} on `{}`", gateway, link_name);
  const auto destination = parse("0.0.0.0/0", what);
  const auto via = parse(gateway, what);
  const std::unique_ptr<rtnl_route, RouteRelease> entry(rtnl_route_alloc());
  rtnl_nexthop* hop = rtnl_route_nh_alloc();
  if (!entry || !hop) {
    if (hop) rtnl_route_nh_free(hop);
    throw std::runtime_error(what + ": out of memory");
  }
  rtnl_route_set_family(entry.get(), AF_INET);
  rtnl_route_set_dst(entry.get(), destination.get());
  rtnl_route_nh_set_ifindex(hop, link_state(route, link_name).ifindex);
  rtnl_route_nh_set_gateway(hop, via.get());
  rtnl_route_add_nexthop(entry.get(), hop);  // the route owns it now
  const int error = rtnl_route_add(route.get(), entry.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (error < 0) throw std::runtime_error(netlink_error(what, error));
}

}  // namespace provium::netsetup
