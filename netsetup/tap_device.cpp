#include "tap_device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "interface_name.h"
#include "link.h"

namespace provium::netsetup {

TapDevice TapDevice::create_detached(const NetNamespace& ns, const std::string& name, const TapOptions& options) {
  check_interface_name(name, "TAP name");
  // A TUN/TAP device is made in the namespace of whoever opened
  // /dev/net/tun, so the open and the ioctl happen inside.
  kj::AutoCloseFd fd = ns.run_inside([&] {
    const int raw = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (raw < 0) throw std::runtime_error(fmt::format("TAP `{}`: open /dev/net/tun: {}", name, strerror(errno)));
    kj::AutoCloseFd owned(raw);
    ifreq request{};
    request.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | (options.vnet_hdr ? IFF_VNET_HDR : 0));
    std::memcpy(request.ifr_name, name.c_str(), name.size());
    if (::ioctl(raw, TUNSETIFF, &request) != 0) {
      throw std::runtime_error(fmt::format("TAP `{}`: TUNSETIFF: {}", name, strerror(errno)));
    }
    return owned;
  });
  return TapDevice(ns, name, kj::mv(fd));
}

TapDevice TapDevice::create(const Bridge& bridge, const std::string& name, const TapOptions& options) {
  const NetNamespace& ns = bridge.ns();
  TapDevice tap = create_detached(ns, name, options);
  try {
    set_link_master(ns.route(), name, bridge.ifindex());
    set_link_up(ns.route(), name, true);
  } catch (const std::exception& error) {
    throw std::runtime_error(fmt::format("TAP `{}` on bridge `{}`: {}", name, bridge.name(), error.what()));
  }
  return tap;
}

}  // namespace provium::netsetup
