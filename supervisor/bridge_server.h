// The `Bridge` capability a runner gets from Session.createBridge(). A thin
// RPC face over the file's TestNetwork: it turns Vm capabilities back into
// this session's own VMs (a capability from anywhere else is refused), reads
// and checks the wire values, and answers with what the runner must tell
// the guests' agents.
#pragma once

#include <string>

#include <capnp/capability.h>

#include "runner.capnp.h"
#include "test_network.h"

namespace provium {

using VmCapabilitySet = capnp::CapabilityServerSet<wire::runner::Vm>;

class BridgeServer final : public wire::runner::Bridge::Server {
 public:
  BridgeServer(std::string name, TestNetwork& network, VmCapabilitySet& vms)
      : name_(std::move(name)), network_(network), vms_(vms) {}

  kj::Promise<void> attach(AttachContext context) override;
  kj::Promise<void> detach(DetachContext context) override;
  kj::Promise<void> setPolicy(SetPolicyContext context) override;
  kj::Promise<void> counters(CountersContext context) override;
  kj::Promise<void> setLink(SetLinkContext context) override;
  kj::Promise<void> capture(CaptureContext context) override;
  kj::Promise<void> enableUplink(EnableUplinkContext context) override;
  kj::Promise<void> disableUplink(DisableUplinkContext context) override;

 private:
  // "bridge `lan`: attach: <what>" as the runner's error.
  [[noreturn]] void fail(const char* method, const std::string& what) const;

  std::string name_;
  TestNetwork& network_;
  VmCapabilitySet& vms_;
};

// Reads a wire policy; throws NetworkRequestError for values out of range
// that the wire can carry but a policy cannot hold.
net::BridgePolicy read_bridge_policy(wire::runner::BridgePolicy::Reader policy);

}  // namespace provium
