#include "netem_support.h"

#include <linux/pkt_sched.h>

#include <fmt/format.h>
#include <netlink/errno.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/tc.h>

#include "link.h"
#include "netlink_objects.h"

namespace provium::netsetup {

std::optional<std::string> netem_missing_reason(const NetNamespace& ns) {
  const QdiscObject qdisc(rtnl_qdisc_alloc());
  if (!qdisc) return "sch_netem: cannot probe (out of memory)";
  rtnl_tc_set_ifindex(TC_CAST(qdisc.get()), link_state(ns.route(), "lo").ifindex);
  rtnl_tc_set_parent(TC_CAST(qdisc.get()), TC_H_ROOT);
  if (rtnl_tc_set_kind(TC_CAST(qdisc.get()), "netem") < 0) return "sch_netem: libnl does not know the netem qdisc";
  rtnl_netem_set_delay(qdisc.get(), 1000);  // 1 ms, in microseconds
  const int error = rtnl_qdisc_add(ns.route().get(), qdisc.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (error >= 0) {
    rtnl_qdisc_delete(ns.route().get(), qdisc.get());
    return std::nullopt;
  }
  // An unknown qdisc kind comes back as ENOENT.
  if (error == -NLE_OBJ_NOTFOUND || error == -NLE_OPNOTSUPP) {
    return fmt::format(
        "kernel feature missing: sch_netem (the netem qdisc; adding one failed: {}), so latency and jitter "
        "cannot be emulated on this host",
        nl_geterror(error));
  }
  return fmt::format("sch_netem: adding a netem qdisc failed: {}", nl_geterror(error));
}

}  // namespace provium::netsetup
