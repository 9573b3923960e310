// A TAP device in a namespace, a port of a bridge, up. Its fd is the guest's
// side of the wire: QEMU gets a copy (-netdev tap,fd=N) and reads and writes
// Ethernet frames on it. The device is not persistent: it disappears when
// the last copy of the fd is closed (ours and QEMU's).
#pragma once

#include <string>

#include <kj/io.h>

#include "bridge.h"
#include "net_namespace.h"

namespace provium::netsetup {

struct TapOptions {
  // Frames on the fd carry a struct virtio_net_hdr first (what QEMU's
  // virtio-net wants for offloads; QEMU detects it on the fd it is given).
  bool vnet_hdr = false;
};

class TapDevice {
 public:
  // Creates `name` in the bridge's namespace, attaches it to `bridge` and
  // sets it up. Errors name the TAP and the bridge.
  static TapDevice create(const Bridge& bridge, const std::string& name, const TapOptions& options = {});
  // Creates `name` in `ns`, down and a port of no bridge: frames the guest
  // side writes are refused (EIO) and none reach it, until it is attached
  // (set_link_master, set_link_up).
  static TapDevice create_detached(const NetNamespace& ns, const std::string& name, const TapOptions& options = {});

  TapDevice(TapDevice&& other) noexcept = default;
  TapDevice& operator=(TapDevice&& other) = delete;
  TapDevice(const TapDevice&) = delete;
  TapDevice& operator=(const TapDevice&) = delete;
  ~TapDevice() = default;  // closing the fd removes the device

  const std::string& name() const { return name_; }
  // Close-on-exec; hand it to a child through an explicit fd map.
  int fd() const { return fd_.get(); }
  const NetNamespace& ns() const { return ns_; }

 private:
  TapDevice(NetNamespace ns, std::string name, kj::AutoCloseFd fd)
      : ns_(std::move(ns)), name_(std::move(name)), fd_(kj::mv(fd)) {}

  NetNamespace ns_;
  std::string name_;
  kj::AutoCloseFd fd_;
};

}  // namespace provium::netsetup
