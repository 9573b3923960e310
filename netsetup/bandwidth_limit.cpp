#include "bandwidth_limit.h"

#include <linux/pkt_sched.h>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#include "link.h"
#include "netlink_objects.h"

namespace provium::netsetup {
namespace {

constexpr std::uint64_t kMinBitsPerSecond = 1000;
constexpr std::uint64_t kMaxBitsPerSecond = static_cast<std::uint64_t>(std::numeric_limits<int>::max()) * 8;
// The bucket has to hold at least a full frame or nothing ever passes.
constexpr std::uint64_t kMinBurstBytes = 2 * 1514;

QdiscObject root_qdisc_of(int ifindex, const std::string& what) {
  QdiscObject qdisc(rtnl_qdisc_alloc());
  if (!qdisc) throw std::runtime_error(what + ": out of memory");
  rtnl_tc_set_ifindex(TC_CAST(qdisc.get()), ifindex);
  rtnl_tc_set_parent(TC_CAST(qdisc.get()), TC_H_ROOT);
  return qdisc;
}

void apply_tbf(const NetNamespace& ns, const std::string& link_name, std::uint64_t bits_per_second, int flags) {
  const std::string what = fmt::format("bandwidth limit {} bit/s on `{}`", bits_per_second, link_name);
  if (bits_per_second < kMinBitsPerSecond || bits_per_second > kMaxBitsPerSecond) {
    throw std::invalid_argument(
        fmt::format("{}: the rate must be {} to {} bit/s", what, kMinBitsPerSecond, kMaxBitsPerSecond));
  }
  const std::uint64_t bytes_per_second = bits_per_second / 8;
  const std::uint64_t burst = std::max(bytes_per_second / 100, kMinBurstBytes);       // 10 ms at the rate
  const std::uint64_t limit = burst + std::max<std::uint64_t>(bytes_per_second / 20, 1514);  // + 50 ms of queue

  const QdiscObject qdisc = root_qdisc_of(link_state(ns.route(), link_name).ifindex, what);
  int error = rtnl_tc_set_kind(TC_CAST(qdisc.get()), "tbf");
  if (error < 0) throw std::runtime_error(netlink_error(what, error));
  const auto clamp = [](std::uint64_t value) {
    return static_cast<int>(std::min<std::uint64_t>(value, std::numeric_limits<int>::max()));
  };
  rtnl_qdisc_tbf_set_limit(qdisc.get(), clamp(limit));
  rtnl_qdisc_tbf_set_rate(qdisc.get(), clamp(bytes_per_second), clamp(burst), 0);
  error = rtnl_qdisc_add(ns.route().get(), qdisc.get(), flags);
  if (error < 0) throw std::runtime_error(netlink_error(what, error));
}

}  // namespace

BandwidthLimit BandwidthLimit::install(const NetNamespace& ns, const std::string& link_name,
                                       std::uint64_t bits_per_second) {
  apply_tbf(ns, link_name, bits_per_second, NLM_F_CREATE | NLM_F_REPLACE);
  return BandwidthLimit(ns, link_name, bits_per_second);
}

BandwidthLimit::BandwidthLimit(BandwidthLimit&& other) noexcept
    : ns_(other.ns_), link_name_(std::move(other.link_name_)), bits_per_second_(other.bits_per_second_),
      owned_(std::exchange(other.owned_, false)) {}

BandwidthLimit::~BandwidthLimit() {
  if (!owned_) return;
  try {
    const QdiscObject qdisc = root_qdisc_of(link_state(ns_.route(), link_name_).ifindex, "remove bandwidth limit");
    rtnl_qdisc_delete(ns_.route().get(), qdisc.get());
  } catch (const std::exception&) {
    // The link is gone, and its qdisc with it.
  }
}

void BandwidthLimit::set_rate(std::uint64_t bits_per_second) {
  apply_tbf(ns_, link_name_, bits_per_second, NLM_F_REPLACE);
  bits_per_second_ = bits_per_second;
}

}  // namespace provium::netsetup
