// Shared set-up for the tests that use the real kernel: a skip when this
// process may not make network namespaces, and a fixture with a namespace,
// a bridge `lan` and three TAP endpoints a, b, c on it. Everything lives in
// the test's own namespace, so a test that fails midway leaves nothing
// behind: the fixture's members go, and the namespace takes the rest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "bridge.h"
#include "net_namespace.h"
#include "bridge_injector.h"
#include "tap_device.h"
#include "tap_endpoint.h"

namespace provium::netsetup::testing {

// Why the kernel datapath cannot be used here (not root, no CAP_NET_ADMIN,
// no namespaces, ...), or nullopt. Detected once per process.
std::optional<std::string> kernel_datapath_missing();
// Why the named feature (datapath_support.h) is unavailable, or nullopt.
std::optional<std::string> feature_missing(std::string_view feature);

#define PROVIUM_SKIP_WITHOUT_KERNEL_DATAPATH()                                          \
  do {                                                                                  \
    if (auto why = ::provium::netsetup::testing::kernel_datapath_missing()) GTEST_SKIP() << *why; \
  } while (false)

class ThreePortBridge : public ::testing::Test {
 protected:
  void SetUp() override;

  // Sends `count` data frames from `from` to `to`, then waits for a sentinel
  // from the bridge to `to`; returns how many of the data frames `to` got.
  std::size_t deliver(TapEndpoint& from, TapEndpoint& to, std::uint32_t count, std::size_t size = 60);

  std::optional<NetNamespace> ns;
  std::optional<Bridge> bridge;
  std::optional<TapDevice> tap_a, tap_b, tap_c;
  std::optional<TapEndpoint> a, b, c;
  std::optional<BridgeInjector> injector;

 private:
  std::uint32_t next_sentinel_ = 1;
};

}  // namespace provium::netsetup::testing
