// The kernel datapath of a test file's network (docs/networking.md, "The
// kernel datapath"): a network namespace of the file's own holding one Linux
// bridge per declared bridge and one TAP per guest NIC slot; policies become
// an nftables bridge table (partitions, isolation, loss) and tbf qdiscs
// (bandwidth); captures read AF_PACKET sockets; an uplink is a veth pair to
// the supervisor's namespace with NAT in the file's namespace.
//
// Everything but an uplink's host-side veth end lives in the namespace, and
// that end is deleted by the kernel with its peer, so the kernel removes all
// of it when the namespace goes: on destruction, and after a crash once the
// last fd on it (ours, QEMU's TAP fds) is closed.
//
// Names: users' bridge and VM names never become interface names. Bridges
// are `br<N>`, TAPs `t<V>s<S>` (VM number V, slot S), numbered in order of
// first use; bridge_interface()/tap_interface() tell which is which.
//
// TAPs are made without IFF_VNET_HDR. QEMU probes the flag on the fd it is
// given (it refuses an explicit vnet_hdr= next to fd=), so `-netdev tap,fd=N`
// matches by itself;
// without offloads every frame the guest sends is one real Ethernet frame
// of at most the MTU, which is what loss, shaping and capture count.
//
// Needs CAP_NET_ADMIN (and CAP_SYS_ADMIN for the namespace, CAP_NET_RAW to
// capture). Not thread-safe: one caller at a time, like the supervisor's
// event loop; capture threads only touch their own sockets and pipes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "file_network.h"
#include "net_namespace.h"

namespace provium::net {

// True when this process can run the kernel datapath: CAP_NET_ADMIN, and a
// kernel with bridges, TAPs and the nftables bridge family (netem is not
// needed: latency then fails with its own error). Otherwise false, with the
// reason in `why_not` when given. Probes in a throwaway namespace.
bool kernel_datapath_usable(std::string* why_not);

class KernelFileNetwork final : public FileNetwork {
 public:
  // Makes the file's namespace. `seed` is recorded for reports only: the
  // kernel's random loss (nft numgen) cannot be seeded. Throws NetworkError
  // when this process lacks CAP_NET_ADMIN or cannot make a namespace.
  explicit KernelFileNetwork(std::uint64_t seed);
  ~KernelFileNetwork() override;
  KernelFileNetwork(const KernelFileNetwork&) = delete;
  KernelFileNetwork& operator=(const KernelFileNetwork&) = delete;

  const char* datapath() const override { return "kernel"; }
  // Latency and jitter through netem qdiscs are not written yet (this
  // project's hosts have no sch_netem to test them on): apply() refuses them.
  static constexpr bool realizes_latency = false;

  std::vector<GuestNicBackend> provision(const std::string& vm, std::size_t slots) override;
  void release(const std::string& vm) override;

  void add_bridge(const std::string& bridge, const BridgeSubnet& subnet) override;
  void attach(const std::string& bridge, const std::string& vm, std::size_t slot) override;
  void detach(const std::string& bridge, const std::string& vm) override;

  void apply(const std::string& bridge, const BridgePolicy& policy) override;

  NicCounters counters(const std::string& bridge, const std::string& vm) const override;

  OwnedFd capture(const std::string& bridge, const std::optional<std::string>& vm) override;

  UplinkInfo enable_uplink(const std::string& bridge) override;
  void disable_uplink(const std::string& bridge) override;

  // For tests and reports: the namespace, and the interface names in it.
  const netsetup::NetNamespace& network_namespace() const;
  std::string bridge_interface(const std::string& bridge) const;
  std::string tap_interface(const std::string& vm, std::size_t slot) const;
  std::uint64_t seed() const { return seed_; }

 private:
  struct State;
  std::uint64_t seed_;
  std::unique_ptr<State> state_;
};

}  // namespace provium::net
