// Runs one test file: spawns its sandboxed runner, serves it the Session over
// Cap'n Proto, watches it exit (pidfd) against the file's timeout, decides the
// result (file_end.h), and tears down its runner and every VM it created.
// A FileRun is driven by the promise run() returns; destroying it at any time
// (for example on Ctrl-C) kills the runner and the VMs.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <vector>

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

#include "discovery.h"
#include "exit_watcher.h"
#include "file_end.h"
#include "file_progress.h"
#include "file_result.h"
#include "run_options.h"
#include "session_server.h"
#include "tail_buffer.h"
#include "vm_fleet.h"
#include "vm_services.h"

namespace provium {

inline constexpr std::size_t kMaxTestSourceBytes = 4 * 1024 * 1024;

// Shared by every file of a run.
struct FileRunSettings {
  std::filesystem::path runner;
  Millis timeout{0};  // zero: no timeout
  TestSelection selection;
  bool test_hooks = false;
  std::vector<std::filesystem::path> module_roots;  // config roots, else the CLI path directories
  std::filesystem::path cwd;
  std::filesystem::path project_root;  // provium.toml's directory, else cwd (push_file may read under it)
};

class FileRun {
 public:
  // `fixtures` serves provium:vm_fixture (null: none in this run). A
  // `fixture_job` runs a *.fixture.lua whose chunk returns a snapshot.
  FileRun(kj::AsyncIoContext& io, const VmServices& services, const FileRunSettings& settings, TestFile file,
          FixtureProvider* fixtures = nullptr, bool fixture_job = false);
  FileRun(const FileRun&) = delete;
  FileRun& operator=(const FileRun&) = delete;
  // Destroyed before conclude() (an interrupted run): the VMs go first, then the claim ends.
  ~FileRun() noexcept(false);

  // Call once; the FileRun must outlive the promise.
  kj::Promise<FileResult> run();
  // After a fixture job passed: whether the snapshot its runner named is a
  // VM's (a file) or a lab's (a directory), and moving it (checked: inside
  // snapshot_dir) to `into`. Both throw std::runtime_error.
  FixtureKind fixture_snapshot_kind(const std::string& named);
  void claim_fixture_snapshot(const std::string& named, FixtureKind kind, const std::filesystem::path& into);

 private:
  kj::Promise<RunnerEnd> runner_end(kj::Promise<void> finish_called);
  kj::Promise<void> settle();
  FileResult conclude(RunnerEnd end);
  void tear_down();
  // claim_released, once, if the file made a claim (test files only).
  void release_claim();
  std::chrono::milliseconds elapsed() const;

  kj::AsyncIoContext& io_;
  const VmServices& services_;
  const FileRunSettings& settings_;
  TestFile file_;
  FileJobSpec job_;
  // Outlives every VM: its scratch snapshots go when the file is done.
  SnapshotPlaces snapshots_;
  FileProgress progress_;
  bool claim_released_ = false;
  std::chrono::steady_clock::time_point started_;
  FixtureProvider* fixtures_;
  TailBuffer log_{64 * 1024};
  // Before the fleet: released VMs leave the network, which must still be there.
  TestNetwork network_;
  VmCapabilitySet vm_servers_;
  VmFleet fleet_;
  // Declared after what they use, so they are destroyed first.
  std::optional<Subprocess> runner_;
  kj::Own<ExitWatcher> exit_watcher_;
  kj::Own<kj::AsyncInputStream> log_stream_;
  kj::Maybe<kj::ForkedPromise<void>> log_drained_;
  kj::Own<kj::AsyncCapabilityStream> rpc_stream_;
  kj::Own<capnp::TwoPartyServer> rpc_server_;
  kj::Maybe<kj::ForkedPromise<void>> rpc_done_;
  kj::Own<kj::PromiseFulfiller<void>> finish_called_;
};

}  // namespace provium
