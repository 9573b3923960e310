#include "ipv4_address.h"

#include <sys/socket.h>

#include <stdexcept>

#include <fmt/format.h>
#include <netlink/addr.h>

#include "link.h"
#include "netlink_objects.h"

namespace provium::netsetup {
namespace {

struct NetlinkAddressRelease {
  void operator()(nl_addr* address) const { nl_addr_put(address); }
};

AddressObject address_object(RouteSocket& route, const std::string& link_name, const std::string& cidr,
                             const std::string& what) {
  if (cidr.find('/') == std::string::npos) throw std::invalid_argument(what + ": expected ADDRESS/PREFIX");
  nl_addr* parsed = nullptr;
  const int parse_error = nl_addr_parse(cidr.c_str(), AF_INET, &parsed);
  if (parse_error < 0) throw std::invalid_argument(netlink_error(what, parse_error));
  const std::unique_ptr<nl_addr, NetlinkAddressRelease> local(parsed);

  AddressObject address(rtnl_addr_alloc());
  if (!address) throw std::runtime_error(what + ": out of memory");
  rtnl_addr_set_ifindex(address.get(), link_state(route, link_name).ifindex);
  const int set_error = rtnl_addr_set_local(address.get(), local.get());
  if (set_error < 0) throw std::runtime_error(netlink_error(what, set_error));
  return address;
}

}  // namespace

void add_ipv4_address(RouteSocket& route, const std::string& link_name, const std::string& cidr) {
  const std::string what = fmt::format("link `{}`: add address {}", link_name, cidr);
  const AddressObject address = address_object(route, link_name, cidr, what);
  const int error = rtnl_addr_add(route.get(), address.get(), 0);
  if (error < 0) throw std::runtime_error(netlink_error(what, error));
}

void remove_ipv4_address(RouteSocket& route, const std::string& link_name, const std::string& cidr) {
  const std::string what = fmt::format("link `{}`: remove address {}", link_name, cidr);
  const AddressObject address = address_object(route, link_name, cidr, what);
  const int error = rtnl_addr_delete(route.get(), address.get(), 0);
  if (error < 0) throw std::runtime_error(netlink_error(what, error));
}

}  // namespace provium::netsetup
