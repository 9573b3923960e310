// The supervisor connection: wire::runner::Session over Cap'n Proto RPC.
// Calls block on the runner's single event loop (the Lua code that makes them
// is synchronous); failures surface as std::runtime_error with the
// supervisor's reason.
#pragma once

#include "supervisor_link.h"

#include <runner.capnp.h>

#include <kj/async.h>
#include <kj/timer.h>

namespace provium::runner {

class RpcSession final : public SupervisorLink {
 public:
  RpcSession(wire::runner::Session::Client session, kj::WaitScope& wait_scope, kj::Timer& timer);
  // Cap'n Proto clients may throw from their destructors; we do not let them.
  ~RpcSession() noexcept override = default;

  // First call: exchanges protocol versions and returns the job. Throws
  // std::runtime_error naming both versions when they differ.
  FileJob hello();
  // Last call of a healthy runner.
  void finish(const FileOutcome& outcome);

  ModuleSource load_module(const std::string& name) override;
  std::unique_ptr<VmBackend> create_vm(const std::string& name, const std::string& profile,
                                       const VmSpec& spec) override;
  std::unique_ptr<BridgeBackend> create_bridge(const std::string& name) override;
  std::optional<std::uint64_t> snapshot_size(const std::string& path) override;
  void delete_snapshot(const std::string& path) override;
  FixtureVm vm_fixture(const std::string& name) override;
  void claim(const ResourceClaim& claim) override;
  std::string create_lab_snapshot(const std::string& path) override;
  void write_lab_index(const std::string& path, const LabSnapshotIndex& index) override;
  LabSnapshotRead read_lab_index(const std::string& path) override;
  LabSnapshotRead lab_fixture(const std::string& name) override;
  void test_started(const std::string& name) override;
  void test_finished(const TestOutcome& outcome) override;

 private:
  wire::runner::Session::Client session_;
  kj::WaitScope& wait_scope_;
  kj::Timer& timer_;
};

}  // namespace provium::runner
