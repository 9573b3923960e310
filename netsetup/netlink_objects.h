// Owning pointers for the libnl objects netsetup allocates, so every error
// path releases them.
#pragma once

#include <memory>

#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>

namespace provium::netsetup {

struct LinkRelease {
  void operator()(rtnl_link* link) const { rtnl_link_put(link); }
};
struct QdiscRelease {
  void operator()(rtnl_qdisc* qdisc) const { rtnl_qdisc_put(qdisc); }
};
struct AddressRelease {
  void operator()(rtnl_addr* address) const { rtnl_addr_put(address); }
};
struct CacheRelease {
  void operator()(nl_cache* cache) const { nl_cache_free(cache); }
};

using LinkObject = std::unique_ptr<rtnl_link, LinkRelease>;
using QdiscObject = std::unique_ptr<rtnl_qdisc, QdiscRelease>;
using AddressObject = std::unique_ptr<rtnl_addr, AddressRelease>;
using CacheObject = std::unique_ptr<nl_cache, CacheRelease>;

}  // namespace provium::netsetup
