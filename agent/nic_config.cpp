#include "nic_config.h"

#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace provium::agent {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* object) const { Free(object); }
};
using Socket = std::unique_ptr<nl_sock, Deleter<nl_sock, nl_socket_free>>;
using Cache = std::unique_ptr<nl_cache, Deleter<nl_cache, nl_cache_free>>;
using Address = std::unique_ptr<nl_addr, Deleter<nl_addr, nl_addr_put>>;
using LinkChange = std::unique_ptr<rtnl_link, Deleter<rtnl_link, rtnl_link_put>>;
using InterfaceAddress = std::unique_ptr<rtnl_addr, Deleter<rtnl_addr, rtnl_addr_put>>;

std::string format_mac(const std::array<std::uint8_t, 6>& mac) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return text;
}

// libnl reports negative NLE_* codes.
void check(int result, const std::string& what) {
  if (result < 0) throw std::system_error(EIO, std::generic_category(), "configureNic: " + what + ": " + nl_geterror(result));
}

Address parse_ipv4(const std::string& text) {
  nl_addr* parsed = nullptr;
  if (text.find('/') == std::string::npos || nl_addr_parse(text.c_str(), AF_INET, &parsed) < 0) {
    throw std::system_error(EINVAL, std::generic_category(), "configureNic: `" + text + "` is not an IPv4 address with a prefix length (a.b.c.d/len)");
  }
  Address address(parsed);
  const unsigned prefix = nl_addr_get_prefixlen(address.get());
  if (nl_addr_get_family(address.get()) != AF_INET || prefix < 1 || prefix > 32) {
    throw std::system_error(EINVAL, std::generic_category(), "configureNic: `" + text + "` is not an IPv4 address with a prefix length of 1-32");
  }
  return address;
}

rtnl_link* find_link(nl_cache* links, const std::array<std::uint8_t, 6>& mac) {
  for (nl_object* object = nl_cache_get_first(links); object != nullptr; object = nl_cache_get_next(object)) {
    auto* link = reinterpret_cast<rtnl_link*>(object);
    nl_addr* hardware = rtnl_link_get_addr(link);
    if (hardware != nullptr && nl_addr_get_len(hardware) == mac.size() &&
        std::memcmp(nl_addr_get_binary_addr(hardware), mac.data(), mac.size()) == 0) {
      return link;
    }
  }
  return nullptr;
}

// Gives the interface that has `from` the hardware address `to` (down while
// it changes: not every driver takes a new address on a running link).
void rename_hardware_address(nl_sock* socket, nl_cache* links, const std::array<std::uint8_t, 6>& from,
                             const std::array<std::uint8_t, 6>& to) {
  rtnl_link* link = find_link(links, from);
  if (link == nullptr) {
    throw std::system_error(ENODEV, std::generic_category(),
                            "configureNic: no interface with hardware address " + format_mac(to) + " nor " +
                                format_mac(from));
  }
  const std::string name = rtnl_link_get_name(link) != nullptr ? rtnl_link_get_name(link) : "?";
  LinkChange down(rtnl_link_alloc());
  rtnl_link_unset_flags(down.get(), IFF_UP);
  check(rtnl_link_change(socket, link, down.get(), 0), "setting " + name + " down to change its address");
  LinkChange change(rtnl_link_alloc());
  Address address(nl_addr_build(AF_LLC, to.data(), to.size()));
  if (!address) throw std::system_error(ENOMEM, std::generic_category(), "configureNic: no memory for an address");
  rtnl_link_set_addr(change.get(), address.get());
  check(rtnl_link_change(socket, link, change.get(), 0), "giving " + name + " hardware address " + format_mac(to));
}

}  // namespace

void configure_nic(const NicSettings& settings) {
  std::vector<Address> wanted;
  for (const std::string& text : settings.ipv4_addresses) wanted.push_back(parse_ipv4(text));

  Socket socket(nl_socket_alloc());
  if (!socket) throw std::system_error(ENOMEM, std::generic_category(), "configureNic: no netlink socket");
  check(nl_connect(socket.get(), NETLINK_ROUTE), "connecting to rtnetlink");
  nl_cache* raw_links = nullptr;
  check(rtnl_link_alloc_cache(socket.get(), AF_UNSPEC, &raw_links), "listing interfaces");
  Cache links(raw_links);
  rtnl_link* link = find_link(links.get(), settings.mac);
  if (link == nullptr && settings.previous_mac) {
    rename_hardware_address(socket.get(), links.get(), *settings.previous_mac, settings.mac);
    nl_cache_refill(socket.get(), links.get());
    link = find_link(links.get(), settings.mac);
  }
  if (link == nullptr) {
    throw std::system_error(ENODEV, std::generic_category(),
                            "configureNic: no interface with hardware address " + format_mac(settings.mac));
  }
  const int index = rtnl_link_get_ifindex(link);
  const std::string name = rtnl_link_get_name(link) != nullptr ? rtnl_link_get_name(link) : "?";

  LinkChange change(rtnl_link_alloc());
  if (settings.up) {
    rtnl_link_set_flags(change.get(), IFF_UP);
  } else {
    rtnl_link_unset_flags(change.get(), IFF_UP);
  }
  check(rtnl_link_change(socket.get(), link, change.get(), 0), "setting " + name + (settings.up ? " up" : " down"));

  nl_cache* raw_addresses = nullptr;
  check(rtnl_addr_alloc_cache(socket.get(), &raw_addresses), "listing addresses");
  Cache present(raw_addresses);
  for (nl_object* object = nl_cache_get_first(present.get()); object != nullptr; object = nl_cache_get_next(object)) {
    auto* address = reinterpret_cast<rtnl_addr*>(object);
    if (rtnl_addr_get_ifindex(address) == index && rtnl_addr_get_family(address) == AF_INET) {
      check(rtnl_addr_delete(socket.get(), address, 0), "removing an old address from " + name);
    }
  }
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    InterfaceAddress address(rtnl_addr_alloc());
    rtnl_addr_set_ifindex(address.get(), index);
    check(rtnl_addr_set_local(address.get(), wanted[i].get()), "preparing " + settings.ipv4_addresses[i]);
    check(rtnl_addr_add(socket.get(), address.get(), 0), "adding " + settings.ipv4_addresses[i] + " to " + name);
  }
}

}  // namespace provium::agent
