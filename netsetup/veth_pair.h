// A veth pair: two linked Ethernet ends, one in a namespace and its peer in
// another (the host's, for an uplink; a child namespace, for the test
// endpoints). Deleting either end deletes both; so does the end of either
// namespace, which is why an uplink cannot outlive the file's namespace.
#pragma once

#include <string>

#include "net_namespace.h"

namespace provium::netsetup {

class VethPair {
 public:
  // Creates `name` in `ns` and `peer_name` in the namespace `peer_namespace_fd`
  // refers to (an nsfs fd: NetNamespace::fd(), or /proc/self/ns/net for the
  // supervisor's own). Both ends are left down.
  static VethPair create(const NetNamespace& ns, const std::string& name, int peer_namespace_fd,
                         const std::string& peer_name);

  VethPair(VethPair&& other) noexcept;
  VethPair& operator=(VethPair&& other) = delete;
  VethPair(const VethPair&) = delete;
  VethPair& operator=(const VethPair&) = delete;
  ~VethPair();

  const std::string& name() const { return name_; }
  const std::string& peer_name() const { return peer_name_; }

 private:
  VethPair(NetNamespace ns, std::string name, std::string peer_name)
      : ns_(std::move(ns)), name_(std::move(name)), peer_name_(std::move(peer_name)) {}

  NetNamespace ns_;
  std::string name_;
  std::string peer_name_;
  bool owned_ = true;
};

}  // namespace provium::netsetup
