// Whether the kernel can emulate latency and jitter (sch_netem). Many
// distribution kernels ship it as a module; some hosts (this project's CI
// among them) do not have it at all, and then delay is simply not available
// on the kernel datapath. The probe adds a netem qdisc to `lo` of the given
// namespace and removes it again, so nothing of the host is touched.
#pragma once

#include <optional>
#include <string>

#include "net_namespace.h"

namespace provium::netsetup {

// nullopt when netem works; otherwise why not, naming sch_netem.
std::optional<std::string> netem_missing_reason(const NetNamespace& ns);

}  // namespace provium::netsetup
