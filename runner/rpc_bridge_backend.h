// A bridge held by the supervisor, driven over wire::runner::Bridge.
#pragma once

#include <string>

#include "supervisor_link.h"

#include <runner.capnp.h>

#include <kj/async.h>

namespace provium::runner {

class RpcBridgeBackend final : public BridgeBackend {
 public:
  RpcBridgeBackend(wire::runner::Bridge::Client bridge, std::string datapath, kj::WaitScope& wait_scope)
      : bridge_(kj::mv(bridge)), datapath_(std::move(datapath)), wait_scope_(wait_scope) {}
  ~RpcBridgeBackend() noexcept override = default;

  BridgeMembership attach(const std::vector<VmBackend*>& vms) override;
  BridgeMembership detach(const std::vector<std::string>& vms) override;
  void set_policy(const BridgePolicySpec& policy) override;
  NicCountersValue counters(const std::string& vm) override;
  void set_link(const std::string& vm, bool up) override;
  kj::AutoCloseFd capture(const std::string& vm) override;
  std::pair<std::string, std::string> enable_uplink() override;
  std::string datapath() const override { return datapath_; }
  void disable_uplink() override;

 private:
  wire::runner::Bridge::Client bridge_;
  std::string datapath_;
  kj::WaitScope& wait_scope_;
};

}  // namespace provium::runner
