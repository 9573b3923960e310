// One end of a test wire: a TAP on a bridge, driven the way QEMU drives it
// (frames written to and read from the TAP fd). Proving that a frame did NOT
// arrive needs no clock: a frame written to a TAP crosses the bridge and is
// queued on the port it goes to while the write() runs, so after sending,
// the receiver waits for a sentinel sent later to the same port (see
// bridge_injector.h); whatever data has not arrived before the sentinel was
// dropped. The sentinel is resent every 100 ms (a shaper may drop it too),
// within a generous 60 s deadline.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tap_device.h"
#include "test_frame.h"

namespace provium::netsetup::testing {

class TapEndpoint {
 public:
  TapEndpoint(const TapDevice& tap, std::uint8_t id);
  // The guest side of a TAP known only by its fd (a KernelFileNetwork slot's
  // backend); `fd` stays the caller's.
  TapEndpoint(int fd, std::string name, std::uint8_t id);

  std::uint8_t id() const { return id_; }
  const std::string& name() const { return name_; }

  // Returns write()'s errno (0 when the frame went out).
  int send(const TestFrame& frame, std::size_t size = 60);
  void send_data(const TapEndpoint& to, std::uint32_t count, std::size_t size = 60);

  struct Received {
    std::map<std::uint8_t, std::vector<std::uint32_t>> data_from;  // sender -> data sequence numbers
    std::size_t count_from(const TapEndpoint& sender) const;
  };
  // Reads frames addressed to this endpoint until the sentinel numbered
  // `sequence` arrives, calling `send_sentinel` first and then every 100 ms.
  // Fails the test (and throws) after 60 s.
  Received receive_until_sentinel(std::uint32_t sequence, const std::function<void()>& send_sentinel);

 private:
  int fd_;
  std::uint8_t id_;
  std::string name_;
};

}  // namespace provium::netsetup::testing
