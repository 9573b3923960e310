#include "uplink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "ipv4_address.h"
#include "ipv4_route.h"
#include "link.h"
#include "nft_script.h"

namespace provium::netsetup {
namespace {

constexpr const char* kNamespaceEnd = "uplink";
constexpr const char* kTable = "provium_uplink";
constexpr std::uint32_t kBlockBase = (100u << 24) | (64u << 16);  // 100.64.0.0
constexpr std::uint32_t kBlocks = 1u << 14;                         // /30s in 100.64.0.0/16

void set_ipv4_forwarding(const NetNamespace& ns, bool on) {
  ns.run_inside([on] {
    // /proc/sys/net is the opening thread's namespace's.
    const int fd = ::open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error(fmt::format("uplink: open ip_forward: {}", strerror(errno)));
    const bool written = ::write(fd, on ? "1" : "0", 1) == 1;
    const int error = errno;
    ::close(fd);
    if (!written) throw std::runtime_error(fmt::format("uplink: write ip_forward: {}", strerror(error)));
  });
}

std::string table_script(const std::set<std::string>& bridges) {
  std::string script = fmt::format("add table ip {0}\ndelete table ip {0}\n", kTable);
  if (bridges.empty()) return script;
  std::string names;
  std::string between_bridges;
  for (const auto& bridge : bridges) {
    names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", bridge);
    for (const auto& other : bridges) {
      if (other != bridge) between_bridges += fmt::format("    iifname \"{}\" oifname \"{}\" drop\n", bridge, other);
    }
  }
  // Policy accept: with br_netfilter loaded, frames a bridge moves between
  // its own ports pass this hook too, and they are not ours to judge.
  script += fmt::format(
      "table ip {0} {{\n"
      "  chain forward {{\n"
      "    type filter hook forward priority 0; policy accept;\n"
      "{3}"
      "    iifname {{ {1} }} oifname \"{2}\" accept\n"
      "    iifname \"{2}\" oifname {{ {1} }} ct state established,related accept\n"
      "    iifname \"{2}\" drop\n"
      "    oifname \"{2}\" drop\n"
      "  }}\n"
      "  chain postrouting {{\n"
      "    type nat hook postrouting priority 100; policy accept;\n"
      "    oifname \"{2}\" masquerade\n"
      "  }}\n"
      "}}\n",
      kTable, names, kNamespaceEnd, between_bridges);
  return script;
}

}  // namespace

std::string ipv4_text(std::uint32_t address) {
  return fmt::format("{}.{}.{}.{}", address >> 24, (address >> 16) & 0xff, (address >> 8) & 0xff, address & 0xff);
}

Uplink Uplink::create(const NetNamespace& ns) {
  // The host is whatever namespace the calling thread is in.
  const int host_fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (host_fd < 0) throw std::runtime_error(fmt::format("uplink: open own namespace: {}", strerror(errno)));
  const kj::AutoCloseFd host_namespace(host_fd);
  RouteSocket host_route = RouteSocket::open();

  for (std::uint32_t block = 0; block < kBlocks; ++block) {
    const std::string host_name = fmt::format("prvup{}", block);
    if (link_exists(host_route, host_name)) continue;
    std::optional<VethPair> veth;
    try {
      veth.emplace(VethPair::create(ns, kNamespaceEnd, host_fd, host_name));
    } catch (const std::exception&) {
      if (link_exists(host_route, host_name)) continue;  // taken meanwhile by another file
      throw;
    }
    const std::uint32_t host_address = kBlockBase + block * 4 + 1;
    const std::string what = fmt::format("uplink `{}` ({}/30)", host_name, ipv4_text(host_address));
    try {
      add_ipv4_address(host_route, host_name, ipv4_text(host_address) + "/30");
      set_link_up(host_route, host_name, true);
      add_ipv4_address(ns.route(), kNamespaceEnd, ipv4_text(host_address + 1) + "/30");
      set_link_up(ns.route(), kNamespaceEnd, true);
      add_default_route(ns.route(), kNamespaceEnd, ipv4_text(host_address));
      set_ipv4_forwarding(ns, true);
      run_nft_script(ns, table_script({}), "uplink table");
    } catch (const std::exception& error) {
      throw std::runtime_error(fmt::format("{}: {}", what, error.what()));  // the veth goes with `veth`
    }
    return Uplink(ns, std::move(*veth), host_address);
  }
  throw std::runtime_error("uplink: every host-side name prvup0..prvup16383 is taken");
}

Uplink::Uplink(Uplink&& other) noexcept
    : ns_(other.ns_), veth_(std::move(other.veth_)), host_address_(other.host_address_),
      owned_(std::exchange(other.owned_, false)) {}

Uplink::~Uplink() {
  if (!owned_) return;
  try {
    run_nft_script(ns_, table_script({}), "uplink table");
    set_ipv4_forwarding(ns_, false);
  } catch (const std::exception&) {
    // The namespace takes both with it.
  }
}

void Uplink::set_bridges(const std::set<std::string>& bridge_interfaces) {
  run_nft_script(ns_, table_script(bridge_interfaces), "uplink table");
}

}  // namespace provium::netsetup
