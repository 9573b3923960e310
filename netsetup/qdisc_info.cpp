#include "qdisc_info.h"

#include <linux/pkt_sched.h>

#include <stdexcept>

#include <fmt/format.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#include "link.h"
#include "netlink_objects.h"

namespace provium::netsetup {

std::optional<RootQdisc> root_qdisc(RouteSocket& route, const std::string& link_name) {
  const int ifindex = link_state(route, link_name).ifindex;
  nl_cache* raw_cache = nullptr;
  const int error = rtnl_qdisc_alloc_cache(route.get(), &raw_cache);
  if (error < 0) throw std::runtime_error(netlink_error(fmt::format("link `{}`: list qdiscs", link_name), error));
  const CacheObject cache(raw_cache);
  // get_by_parent hands out a reference of its own.
  const QdiscObject qdisc(rtnl_qdisc_get_by_parent(cache.get(), ifindex, TC_H_ROOT));
  if (!qdisc) return std::nullopt;
  rtnl_tc* tc = TC_CAST(qdisc.get());
  RootQdisc info{.kind = rtnl_tc_get_kind(tc) ? rtnl_tc_get_kind(tc) : "",
                 .packets = rtnl_tc_get_stat(tc, RTNL_TC_PACKETS),
                 .bytes = rtnl_tc_get_stat(tc, RTNL_TC_BYTES),
                 .drops = rtnl_tc_get_stat(tc, RTNL_TC_DROPS)};
  if (info.kind == "tbf") {
    const int rate = rtnl_qdisc_tbf_get_rate(qdisc.get());
    if (rate > 0) info.tbf_rate_bytes_per_second = static_cast<std::uint64_t>(rate);
  }
  return info;
}

}  // namespace provium::netsetup
