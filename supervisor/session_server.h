// The bootstrap `Session` one runner talks to. Everything it receives is
// treated as hostile: hello() must come first and match our protocol version,
// module names are confined to the roots, VM requests are capped, and reported
// outcomes are size-limited.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "file_progress.h"
#include "host_file_access.h"
#include "run_options.h"
#include "runner.capnp.h"
#include "bridge_server.h"
#include "fixture_provider.h"
#include "snapshot_places.h"
#include "test_network.h"
#include "vm_fleet.h"
#include "vm_services.h"

namespace provium {

// What the runner gets in hello() and may require().
struct FileJobSpec {
  std::string display_path;
  std::string source;
  TestSelection selection;
  bool test_hooks = false;
  std::vector<std::filesystem::path> module_roots;  // the file's own directory first
  std::filesystem::path cwd;                        // for display paths of modules
  HostFileRoots host_files;                         // what vm:push_file may read
  bool fixture = false;                             // a *.fixture.lua: returns a Snapshot, no tests
};

// A test's terminal state as events name it.
TestEnd test_end_of(TestStatus status);

class SessionServer final : public wire::runner::Session::Server {
 public:
  // `progress`, `fleet`, `network` and `vm_servers` belong to the FileRun
  // and outlive the RPC connection.
  SessionServer(const FileJobSpec& job, FileProgress& progress, VmFleet& fleet, TestNetwork& network,
                VmCapabilitySet& vm_servers, SnapshotPlaces& snapshots, const VmServices& services,
                std::function<void()> on_finish, FixtureProvider* fixtures = nullptr)
      : job_(job), progress_(progress), fleet_(fleet), network_(network), vm_servers_(vm_servers),
        snapshots_(snapshots), services_(services), on_finish_(std::move(on_finish)), fixtures_(fixtures) {}

  kj::Promise<void> hello(HelloContext context) override;
  kj::Promise<void> loadModule(LoadModuleContext context) override;
  kj::Promise<void> createVm(CreateVmContext context) override;
  kj::Promise<void> testStarted(TestStartedContext context) override;
  kj::Promise<void> testFinished(TestFinishedContext context) override;
  kj::Promise<void> finish(FinishContext context) override;
  kj::Promise<void> createBridge(CreateBridgeContext context) override;
  kj::Promise<void> snapshotInfo(SnapshotInfoContext context) override;
  kj::Promise<void> deleteSnapshot(DeleteSnapshotContext context) override;
  kj::Promise<void> vmFixture(VmFixtureContext context) override;
  kj::Promise<void> claim(ClaimContext context) override;

  // Bounds on a claim the supervisor will record.
  static constexpr std::uint64_t kMaxClaimMemoryBytes = std::uint64_t{1} << 50;  // 1 PiB
  static constexpr std::uint32_t kMaxClaimCpus = 4096;
  kj::Promise<void> createLabSnapshot(CreateLabSnapshotContext context) override;
  kj::Promise<void> writeLabIndex(WriteLabIndexContext context) override;
  kj::Promise<void> readLabIndex(ReadLabIndexContext context) override;
  kj::Promise<void> labFixture(LabFixtureContext context) override;

 private:
  void require_greeted(const char* method) const;

  const FileJobSpec& job_;
  FileProgress& progress_;
  VmFleet& fleet_;
  TestNetwork& network_;
  VmCapabilitySet& vm_servers_;
  SnapshotPlaces& snapshots_;
  const VmServices& services_;
  std::function<void()> on_finish_;
  FixtureProvider* fixtures_;  // null: this run has no fixture cache (unit tests)
};

}  // namespace provium
