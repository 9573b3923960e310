#include "datapath_support.h"

#include <sys/capability.h>

#include <algorithm>
#include <exception>
#include <functional>
#include <memory>

#include <fmt/format.h>

#include "bandwidth_limit.h"
#include "bridge.h"
#include "bridge_filter.h"
#include "net_namespace.h"
#include "netem_support.h"
#include "packet_capture.h"
#include "tap_device.h"
#include "veth_pair.h"

namespace provium::netsetup {
namespace {

struct CapabilityRelease {
  void operator()(_cap_struct* caps) const { cap_free(caps); }
};

FeatureCheck capability_check(std::string_view name, cap_value_t capability) {
  FeatureCheck check{.name = std::string(name), .required = name != feature::cap_net_raw};
  const std::unique_ptr<_cap_struct, CapabilityRelease> caps(cap_get_proc());
  cap_flag_value_t value = CAP_CLEAR;
  if (!caps || cap_get_flag(caps.get(), capability, CAP_EFFECTIVE, &value) != 0) {
    check.detail = "cannot read this process's capabilities";
  } else if (value != CAP_SET) {
    check.detail = "not in this process's effective set (run provium as root, or grant it)";
  } else {
    check.available = true;
  }
  return check;
}

// Runs `probe`; an exception becomes the check's detail.
FeatureCheck probe_check(std::string_view name, bool required, const std::function<void()>& probe) {
  FeatureCheck check{.name = std::string(name), .required = required};
  try {
    probe();
    check.available = true;
  } catch (const std::exception& error) {
    check.detail = error.what();
  }
  return check;
}

FeatureCheck not_probed(std::string_view name, bool required, std::string_view because) {
  return {.name = std::string(name), .available = false, .required = required,
          .detail = fmt::format("not tried: {}", because)};
}

}  // namespace

bool DatapathSupport::available(std::string_view name) const {
  return std::any_of(checks.begin(), checks.end(),
                     [&](const FeatureCheck& check) { return check.name == name && check.available; });
}

bool DatapathSupport::kernel_datapath_available() const {
  return std::all_of(checks.begin(), checks.end(),
                     [](const FeatureCheck& check) { return !check.required || check.available; });
}

std::optional<std::string> DatapathSupport::unavailable_reason() const {
  std::string reasons;
  for (const auto& check : checks) {
    if (!check.required || check.available) continue;
    if (!reasons.empty()) reasons += "; ";
    reasons += fmt::format("{}: {}", check.name, check.detail);
  }
  if (reasons.empty()) return std::nullopt;
  return "kernel datapath unavailable: " + reasons;
}

std::optional<std::string> DatapathSupport::feature_unavailable_reason(std::string_view name) const {
  for (const auto& check : checks) {
    if (check.name != name) continue;
    if (check.available) return std::nullopt;
    return fmt::format("{} unavailable: {}", check.name, check.detail);
  }
  return fmt::format("{} unavailable: not checked", name);
}

DatapathSupport detect_datapath_support() {
  DatapathSupport support;
  auto& checks = support.checks;
  checks.push_back(capability_check(feature::cap_net_admin, CAP_NET_ADMIN));
  checks.push_back(capability_check(feature::cap_sys_admin, CAP_SYS_ADMIN));
  checks.push_back(capability_check(feature::cap_net_raw, CAP_NET_RAW));

  // Every probe below happens inside this namespace and vanishes with it.
  std::optional<NetNamespace> ns;
  checks.push_back(probe_check(feature::network_namespace, true, [&] { ns.emplace(NetNamespace::create()); }));
  if (!ns) {
    const std::string because = "no network namespace";
    for (const auto name : {feature::bridge, feature::tap}) checks.push_back(not_probed(name, true, because));
    for (const auto name : {feature::veth, feature::nftables_bridge, feature::tbf, feature::netem,
                            feature::packet_capture}) {
      checks.push_back(not_probed(name, false, because));
    }
    return support;
  }

  std::optional<Bridge> bridge;
  checks.push_back(probe_check(feature::bridge, true, [&] { bridge.emplace(Bridge::create(*ns, "probe-br")); }));
  std::optional<TapDevice> tap;
  if (bridge) {
    checks.push_back(probe_check(feature::tap, true, [&] { tap.emplace(TapDevice::create(*bridge, "probe-tap")); }));
  } else {
    checks.push_back(not_probed(feature::tap, true, "no bridge"));
  }
  checks.push_back(probe_check(feature::veth, false, [&] { VethPair::create(*ns, "probe-v0", ns->fd(), "probe-v1"); }));
  if (bridge) {
    checks.push_back(probe_check(feature::nftables_bridge, false, [&] {
      BridgeFilter filter(*bridge);
      filter.block("probe-a", "probe-b");
      filter.set_loss({.from = "probe-a"}, 50);
      filter.clear();
    }));
    checks.push_back(probe_check(feature::tbf, false, [&] { BandwidthLimit::install(*ns, bridge->name(), 1000000); }));
    checks.push_back(probe_check(feature::packet_capture, false, [&] { PacketCapture::open(*ns, bridge->name()); }));
  } else {
    for (const auto name : {feature::nftables_bridge, feature::tbf, feature::packet_capture}) {
      checks.push_back(not_probed(name, false, "no bridge"));
    }
  }
  checks.push_back(probe_check(feature::netem, false, [&] {
    if (auto reason = netem_missing_reason(*ns)) throw std::runtime_error(*reason);
  }));
  return support;
}

}  // namespace provium::netsetup
