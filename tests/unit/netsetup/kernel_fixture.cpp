#include "kernel_fixture.h"

#include <cstring>

#include "datapath_support.h"

namespace provium::netsetup::testing {
namespace {

const DatapathSupport& support() {
  static const DatapathSupport detected = detect_datapath_support();
  return detected;
}

}  // namespace

std::optional<std::string> kernel_datapath_missing() { return support().unavailable_reason(); }

std::optional<std::string> feature_missing(std::string_view feature) {
  return support().feature_unavailable_reason(feature);
}

void ThreePortBridge::SetUp() {
  PROVIUM_SKIP_WITHOUT_KERNEL_DATAPATH();
  ns.emplace(NetNamespace::create());
  bridge.emplace(Bridge::create(*ns, "lan"));
  tap_a.emplace(TapDevice::create(*bridge, "tap-a"));
  tap_b.emplace(TapDevice::create(*bridge, "tap-b"));
  tap_c.emplace(TapDevice::create(*bridge, "tap-c"));
  a.emplace(*tap_a, 1);
  b.emplace(*tap_b, 2);
  c.emplace(*tap_c, 3);
  injector.emplace(*ns, "lan");
}

std::size_t ThreePortBridge::deliver(TapEndpoint& from, TapEndpoint& to, std::uint32_t count, std::size_t size) {
  from.send_data(to, count, size);
  const std::uint32_t sentinel = next_sentinel_++;
  const auto received = to.receive_until_sentinel(sentinel, [&] {
    const int error = injector->send({.from = kBridgeId, .to = to.id(), .kind = FrameKind::sentinel, .sequence = sentinel});
    if (error != 0) ADD_FAILURE() << "sentinel to " << to.name() << ": " << strerror(error);
  });
  return received.count_from(from);
}

}  // namespace provium::netsetup::testing
