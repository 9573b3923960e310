// A Linux bridge in a namespace, up, without STP (ports forward as soon as
// they are attached). Destroying the Bridge deletes it; its ports stay, just
// detached. The name only has to be unique within its namespace, so a test
// file's `lan` is simply `lan`.
#pragma once

#include <string>

#include "net_namespace.h"

namespace provium::netsetup {

class Bridge {
 public:
  // Throws if the name is invalid or taken in `ns`, naming the bridge.
  static Bridge create(const NetNamespace& ns, const std::string& name);

  Bridge(Bridge&& other) noexcept;
  Bridge& operator=(Bridge&& other) = delete;
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;
  ~Bridge();

  const std::string& name() const { return name_; }
  int ifindex() const { return ifindex_; }
  const NetNamespace& ns() const { return ns_; }

 private:
  Bridge(NetNamespace ns, std::string name, int ifindex)
      : ns_(std::move(ns)), name_(std::move(name)), ifindex_(ifindex) {}

  NetNamespace ns_;
  std::string name_;
  int ifindex_ = 0;  // 0 once moved from
};

}  // namespace provium::netsetup
