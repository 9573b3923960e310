// One test file's network, as the supervisor sees it: the bridges the file
// declared, each VM's NIC slots, and what a test asked the links to do.
// Two datapaths implement it (docs/networking.md):
//   - user:   netsetup/user/user_file_network  (a switch thread, QEMU dgram netdevs, no privileges)
//   - kernel: netsetup/kernel_file_network     (a network namespace of the file's own, bridges,
//             TAPs, nftables, qdiscs; needs CAP_NET_ADMIN)
//
// The supervisor keeps the graph (who is attached, which partitions and
// impairments were asked for, addresses); a FileNetwork only realizes it.
// Everything a FileNetwork made is gone when it is destroyed, including after
// errors part way through a call.
#pragma once

#include "impairments.h"
#include "owned_fd.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace provium::net {

// A request the datapath cannot realize (a missing kernel feature, a bad
// state). The message names what was missing, e.g. "latency needs the
// kernel's sch_netem, which this host does not have".
class NetworkError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How one guest NIC slot reaches QEMU. QEMU inherits `fd`:
//   dgram_socket: -netdev dgram,id=...,local.type=fd,local.str=<fd>   (SOCK_DGRAM socketpair end)
//   tap:          -netdev tap,id=...,fd=<fd>                          (a TAP queue fd)
struct GuestNicBackend {
  enum class Kind { dgram_socket, tap };
  Kind kind = Kind::dgram_socket;
  OwnedFd fd;
};

// The IPv4 subnet of one bridge (addresses are chosen by the supervisor,
// docs/networking.md has the scheme); the datapath needs it only for an uplink.
struct BridgeSubnet {
  std::uint32_t network = 0;     // host byte order, e.g. 10.1.0.0
  std::uint8_t prefix_length = 24;
  std::uint32_t gateway = 0;     // host byte order: the address the uplink's host side takes
};

// Everything a test asked of one bridge's links, by VM name. apply()
// replaces the previous policy as a whole.
struct BridgePolicy {
  std::set<std::pair<std::string, std::string>> blocked;  // (from, to): frames from -> to are dropped
  std::set<std::string> isolated;                          // reaches no one, reached by no one
  Impairments whole;                                       // every pair on the bridge
  std::map<std::pair<std::string, std::string>, Impairments> pairs;  // (from, to); replaces `whole` per kind

  bool operator==(const BridgePolicy&) const = default;
};

// Counters of one guest NIC, from the guest's point of view (rx = the guest received).
struct NicCounters {
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_bytes = 0;
  std::uint64_t rx_packets = 0;
  std::uint64_t tx_packets = 0;
  std::uint64_t errors = 0;
};

// What an uplink gives the guests: a route to the host through `gateway`
// (the bridge subnet's gateway address), and the host-side address a host
// listener can bind to.
struct UplinkInfo {
  std::uint32_t gateway = 0;       // host byte order
  std::uint32_t host_address = 0;  // host byte order, in the host's network namespace
};

class FileNetwork {
 public:
  virtual ~FileNetwork() = default;

  // "user" or "kernel".
  virtual const char* datapath() const = 0;

  // Before a VM's QEMU starts: one backend per NIC slot. Slot i is the
  // guest's i-th virtio-net device; a slot belongs to no bridge until attach.
  virtual std::vector<GuestNicBackend> provision(const std::string& vm, std::size_t slots) = 0;
  // The VM's QEMU is gone (or it is about to boot again): its slots leave
  // every bridge and their host ends are closed.
  virtual void release(const std::string& vm) = 0;

  virtual void add_bridge(const std::string& bridge, const BridgeSubnet& subnet) = 0;
  virtual void attach(const std::string& bridge, const std::string& vm, std::size_t slot) = 0;
  virtual void detach(const std::string& bridge, const std::string& vm) = 0;

  // Replaces the bridge's partitions, isolation and impairments. Throws
  // NetworkError, naming the missing feature, for what it cannot realize;
  // the previous policy then stays in force.
  virtual void apply(const std::string& bridge, const BridgePolicy& policy) = 0;

  virtual NicCounters counters(const std::string& bridge, const std::string& vm) const = 0;

  // A capture of the whole bridge, or of one VM's NIC on it: the read end of
  // a pipe carrying a standard pcap file (global header, then one record per
  // frame). The capture stops when the reader closes its end or the bridge goes.
  virtual OwnedFd capture(const std::string& bridge, const std::optional<std::string>& vm) = 0;

  // NAT from the bridge's subnet to the host side. Throws NetworkError where
  // the datapath has no uplink.
  virtual UplinkInfo enable_uplink(const std::string& bridge) = 0;
  virtual void disable_uplink(const std::string& bridge) = 0;
};

}  // namespace provium::net
