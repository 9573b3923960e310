#include "rpc_session.h"

#include "rpc_convert.h"
#include "rpc_bridge_backend.h"
#include "rpc_vm_backend.h"
#include "rpc_wait.h"

#include <stdexcept>

namespace provium::runner {

RpcSession::RpcSession(wire::runner::Session::Client session, kj::WaitScope& wait_scope, kj::Timer& timer)
    : session_(kj::mv(session)), wait_scope_(wait_scope), timer_(timer) {}

FileJob RpcSession::hello() {
  auto request = session_.helloRequest();
  request.setRunnerVersion(wire::runner::PROTOCOL_VERSION);
  auto response = wait_rpc(request.send(), wait_scope_, "Session.hello");
  if (response.getSupervisorVersion() != wire::runner::PROTOCOL_VERSION) {
    throw std::runtime_error("protocol mismatch: the supervisor speaks runner protocol " +
                             std::to_string(response.getSupervisorVersion()) + ", this runner speaks " +
                             std::to_string(wire::runner::PROTOCOL_VERSION));
  }
  return file_job_from_wire(response.getJob());
}

void RpcSession::finish(const FileOutcome& outcome) {
  auto request = session_.finishRequest();
  file_outcome_to_wire(outcome, request.initOutcome());
  wait_rpc(request.send().ignoreResult(), wait_scope_, "Session.finish");
}

ModuleSource RpcSession::load_module(const std::string& name) {
  auto request = session_.loadModuleRequest();
  request.setName(name);
  auto response = wait_rpc(request.send(), wait_scope_);
  auto source = response.getSource();
  return ModuleSource{response.getChunkName(),
                      std::string(reinterpret_cast<const char*>(source.begin()), source.size())};
}

std::unique_ptr<VmBackend> RpcSession::create_vm(const std::string& name, const std::string& profile,
                                                 const VmSpec& spec) {
  auto request = session_.createVmRequest();
  request.setName(name);
  request.setProfile(profile);
  vm_spec_to_wire(spec, request.initOptions());
  auto response = wait_rpc(request.send(), wait_scope_);
  const VmResources defaults{response.getDefaultMemoryBytes(), response.getDefaultCpus()};
  return std::make_unique<RpcVmBackend>(response.getVm(), defaults, wait_scope_, timer_);
}

std::unique_ptr<BridgeBackend> RpcSession::create_bridge(const std::string& name) {
  auto request = session_.createBridgeRequest();
  request.setName(name);
  auto response = wait_rpc(request.send(), wait_scope_);
  return std::make_unique<RpcBridgeBackend>(response.getBridge(), response.getDatapath().cStr(), wait_scope_);
}

std::optional<std::uint64_t> RpcSession::snapshot_size(const std::string& path) {
  auto request = session_.snapshotInfoRequest();
  request.setPath(path);
  auto response = wait_rpc(request.send(), wait_scope_);
  if (!response.getExists()) return std::nullopt;
  return response.getSize();
}

void RpcSession::delete_snapshot(const std::string& path) {
  auto request = session_.deleteSnapshotRequest();
  request.setPath(path);
  wait_rpc(request.send().ignoreResult(), wait_scope_, "Session.deleteSnapshot");
}

FixtureVm RpcSession::vm_fixture(const std::string& name) {
  auto request = session_.vmFixtureRequest();
  request.setName(name);
  // Building a fixture boots and runs another file first: no deadline here
  // beyond the test's own (the runner's clock interrupts a wait that long).
  auto response = wait_rpc(request.send(), wait_scope_);
  FixtureVm fixture;
  const auto info = response.getInfo();
  // A fixture VM's size is its snapshot's; it counts against a claim as booted.
  fixture.backend = std::make_unique<RpcVmBackend>(response.getVm(), VmResources{info.getMemoryBytes(), 0},
                                                   wait_scope_, timer_);
  fixture.name = response.getVmName().cStr();
  fixture.profile = response.getProfile().cStr();
  fixture.restored.booted.agent_fd = carried_agent_fd(response.getChannel(), wait_scope_);
  fixture.restored.booted.info = vm_info_from_wire(response.getInfo());
  const auto entropy = response.getEntropy();
  fixture.restored.entropy.assign(reinterpret_cast<const char*>(entropy.begin()), entropy.size());
  fixture.restored.host_time_ns = response.getHostTimeNs();
  fixture.restored.nic_macs = nic_macs_from_wire(response.getNicMacs());
  return fixture;
}

void RpcSession::claim(const ResourceClaim& claim) {
  auto request = session_.claimRequest();
  auto amount = request.initAmount();
  amount.setHasMemoryBytes(claim.memory_bytes.has_value());
  amount.setMemoryBytes(claim.memory_bytes.value_or(0));
  amount.setHasCpus(claim.cpus.has_value());
  amount.setCpus(claim.cpus.value_or(0));
  wait_rpc(request.send().ignoreResult(), wait_scope_, "Session.claim");
}

std::string RpcSession::create_lab_snapshot(const std::string& path) {
  auto request = session_.createLabSnapshotRequest();
  request.setPath(path);
  auto response = wait_rpc(request.send(), wait_scope_);
  return response.getPath().cStr();
}

void RpcSession::write_lab_index(const std::string& path, const LabSnapshotIndex& index) {
  auto request = session_.writeLabIndexRequest();
  request.setPath(path);
  lab_snapshot_index_to_wire(index, request.initIndex());
  wait_rpc(request.send().ignoreResult(), wait_scope_, "Session.writeLabIndex");
}

LabSnapshotRead RpcSession::read_lab_index(const std::string& path) {
  auto request = session_.readLabIndexRequest();
  request.setPath(path);
  auto response = wait_rpc(request.send(), wait_scope_);
  return LabSnapshotRead{response.getPath().cStr(), lab_snapshot_index_from_wire(response.getIndex())};
}

LabSnapshotRead RpcSession::lab_fixture(const std::string& name) {
  auto request = session_.labFixtureRequest();
  request.setName(name);
  // As vm_fixture: a build runs another file first; the test's deadline bounds the wait.
  auto response = wait_rpc(request.send(), wait_scope_);
  return LabSnapshotRead{response.getPath().cStr(), lab_snapshot_index_from_wire(response.getIndex())};
}

void RpcSession::test_started(const std::string& name) {
  auto request = session_.testStartedRequest();
  request.setName(wire_text(name));
  wait_rpc(request.send().ignoreResult(), wait_scope_, "Session.testStarted");
}

void RpcSession::test_finished(const TestOutcome& outcome) {
  auto request = session_.testFinishedRequest();
  test_outcome_to_wire(outcome, request.initOutcome());
  wait_rpc(request.send().ignoreResult(), wait_scope_, "Session.testFinished");
}

}  // namespace provium::runner
