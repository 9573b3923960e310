// Sends frames out of a bridge's own device (an AF_PACKET socket on it),
// as the host side of the bridge would. Such frames go to the ports through
// the bridge's local-out path, not its forward path, so no partition,
// isolation or loss rule touches them: they are the tests' sentinels, and
// they queue behind forwarded frames on the port they go to.
#pragma once

#include <string>

#include <kj/io.h>

#include "net_namespace.h"
#include "test_frame.h"

namespace provium::netsetup::testing {

// The endpoint id sentinels come from.
inline constexpr std::uint8_t kBridgeId = 0xfe;

class BridgeInjector {
 public:
  BridgeInjector(const NetNamespace& ns, const std::string& bridge_name);
  // Returns sendto()'s errno (0 when the frame went out).
  int send(const TestFrame& frame);

 private:
  kj::AutoCloseFd socket_;
  int ifindex_ = 0;
};

}  // namespace provium::netsetup::testing
