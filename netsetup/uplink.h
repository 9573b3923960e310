// The way out of a file's namespace to the supervisor's own (the "host"):
// a veth pair, `uplink` in the file's namespace and `prvup<N>` on the host,
// addressed as a /30 from 100.64.0.0/16 (N-th block: host end .1, namespace
// end .2), a default route through the host end, IPv4 forwarding, and an
// nftables `ip` table that lets through the uplink only what the bridges
// given to it send and the answers to their connections (never from one
// of them to another), and masquerades it behind the namespace end. So the host needs no route back and no rule of ours.
//
// N is the first free one: the host-side interface name is the lock, as the
// kernel refuses a second link of the same name, so concurrent files (other
// supervisors included) never share a block. Everything on the host side is
// the veth end, which the kernel deletes with its peer when the file's
// namespace goes, also after a crash.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "net_namespace.h"
#include "veth_pair.h"

namespace provium::netsetup {

class Uplink {
 public:
  // Errors name the step; nothing is left after one.
  static Uplink create(const NetNamespace& ns);

  Uplink(Uplink&& other) noexcept;
  Uplink& operator=(Uplink&& other) = delete;
  Uplink(const Uplink&) = delete;
  Uplink& operator=(const Uplink&) = delete;
  ~Uplink();  // the veth pair goes; forwarding and the table with the namespace's next user, or now

  // Host byte order.
  std::uint32_t host_address() const { return host_address_; }
  const std::string& host_interface() const { return veth_.peer_name(); }

  // The bridges (interface names in the namespace) whose traffic may leave;
  // one nftables transaction.
  void set_bridges(const std::set<std::string>& bridge_interfaces);

 private:
  Uplink(NetNamespace ns, VethPair veth, std::uint32_t host_address)
      : ns_(std::move(ns)), veth_(std::move(veth)), host_address_(host_address) {}

  NetNamespace ns_;
  VethPair veth_;
  std::uint32_t host_address_ = 0;
  bool owned_ = true;
};

// "a.b.c.d" for an address in host byte order.
std::string ipv4_text(std::uint32_t address);

}  // namespace provium::netsetup
