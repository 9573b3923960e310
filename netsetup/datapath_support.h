// What the kernel datapath can do for the current process, found by trying
// each piece in a throwaway namespace (capabilities alone do not tell: a
// kernel may lack a module, /dev/net/tun may be closed to us). The result is
// data the supervisor can report once, e.g.
//   kernel datapath unavailable: CAP_NET_ADMIN: not in the effective set; ...
// and consult before offering partitions, shaping or capture.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace provium::netsetup {

// Feature names, as reported.
namespace feature {
inline constexpr std::string_view cap_net_admin = "CAP_NET_ADMIN";
inline constexpr std::string_view cap_sys_admin = "CAP_SYS_ADMIN";  // to make and enter namespaces
inline constexpr std::string_view cap_net_raw = "CAP_NET_RAW";      // to capture
inline constexpr std::string_view network_namespace = "network namespace";
inline constexpr std::string_view bridge = "bridge";
inline constexpr std::string_view tap = "TAP device";
inline constexpr std::string_view veth = "veth pair";
inline constexpr std::string_view nftables_bridge = "nftables bridge family";  // partitions, isolation, loss
inline constexpr std::string_view tbf = "tbf qdisc";                           // bandwidth
inline constexpr std::string_view netem = "netem qdisc";                       // latency, jitter
inline constexpr std::string_view packet_capture = "packet capture";
}  // namespace feature

struct FeatureCheck {
  std::string name;
  bool available = false;
  bool required = false;  // the kernel datapath is unusable without it
  std::string detail;     // why not, when unavailable
};

struct DatapathSupport {
  std::vector<FeatureCheck> checks;

  bool available(std::string_view name) const;
  // Every required feature works: bridges with TAPs can be made per file.
  bool kernel_datapath_available() const;
  // "kernel datapath unavailable: A: why; B: why", or nullopt.
  std::optional<std::string> unavailable_reason() const;
  // "netem qdisc unavailable: why", or nullopt when `name` works.
  std::optional<std::string> feature_unavailable_reason(std::string_view name) const;
};

DatapathSupport detect_datapath_support();

}  // namespace provium::netsetup
