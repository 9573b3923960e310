// What the runner needs from the supervisor, as interfaces. The real
// implementation speaks Cap'n Proto (rpc_session.h); unit tests use fakes, so
// the framework and the Lua surface are testable without a supervisor.
#pragma once

#include "deadline.h"
#include "resource_claim.h"
#include "file_job.h"
#include "vm_spec.h"

#include <kj/io.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>
#include <memory>
#include <stdexcept>
#include <string>

namespace provium::runner {

struct BootedVm {
  kj::AutoCloseFd agent_fd;   // our own copy of the agent connection
  VmInfo info;
};

// A snapshot the supervisor wrote (docs/snapshots.md).
struct SnapshotTaken {
  std::string path;  // where it is, as the supervisor resolved it
  std::uint64_t size = 0;
};

// A VM started from a snapshot: a booted VM plus what the restored guest
// needs to stop being a copy of the one snapshotted.
struct RestoredVm {
  BootedVm booted;
  std::string entropy;          // fresh random bytes for the guest's pool
  std::int64_t host_time_ns = 0;  // the host's wall clock when it was restored
  std::vector<std::array<std::uint8_t, 6>> nic_macs;  // the snapshotted guest's MACs, by NIC slot
};

// A host file the supervisor opened for vm:push_file.
struct HostFileOpened {
  kj::AutoCloseFd fd;
  std::uint64_t size = 0;
  std::string resolved;  // its real path on the host
};

// One VM as the supervisor holds it. Methods throw std::runtime_error with
// the supervisor's reason.
// A restore the supervisor was asked for and not yet waited for, so that
// lab:restore can have every QEMU of a lab start at once.
class PendingRestore {
 public:
  virtual ~PendingRestore() = default;
  virtual RestoredVm wait() = 0;
};

class VmBackend {
 public:
  virtual ~VmBackend() = default;
  // Starts the guest; gives up (throwing DeadlineExceeded) at `deadline`.
  virtual BootedVm boot(const VmSpec& spec, Deadline deadline) = 0;
  virtual void shutdown() = 0;
  virtual std::string console_tail(std::uint32_t max_bytes) = 0;
  // The profile's memory and vCPUs, for options that leave them unset
  // (claims check boots against them); nothing when unknown.
  virtual std::optional<VmResources> default_resources() const { return std::nullopt; }

  // Console, lifecycle verbs and host files. The defaults refuse, for
  // backends (test fakes) that do not provide them.
  // Everything the console printed that the supervisor kept.
  virtual std::string console_log() { throw std::runtime_error("console: not provided by this backend"); }
  // A socket to the console: output (the kept log, then live) and/or input.
  virtual kj::AutoCloseFd open_console(bool output, bool input) {
    (void)output, (void)input;
    throw std::runtime_error("console: not provided by this backend");
  }
  virtual void pause() { throw std::runtime_error("pause: not provided by this backend"); }
  virtual void resume() { throw std::runtime_error("resume: not provided by this backend"); }
  // Warm reboot; returns a fresh agent connection (the old one is spent).
  virtual kj::AutoCloseFd reset(Deadline deadline) {
    (void)deadline;
    throw std::runtime_error("reset: not provided by this backend");
  }
  // Returns once the guest powered off.
  virtual void power_button(Deadline deadline) {
    (void)deadline;
    throw std::runtime_error("power_button: not provided by this backend");
  }
  virtual HostFileOpened open_host_file(const std::string& host_path, const std::string& relative_to) {
    (void)host_path, (void)relative_to;
    throw std::runtime_error("push_file: not provided by this backend");
  }
  // `path` empty: a scratch file the supervisor names.
  virtual SnapshotTaken snapshot(const std::string& path, Deadline deadline) {
    (void)path, (void)deadline;
    throw std::runtime_error("snapshot: not provided by this backend");
  }
  virtual RestoredVm restore(const std::string& path, Deadline deadline) {
    (void)path, (void)deadline;
    throw std::runtime_error("restore: not provided by this backend");
  }
  // Sends the restore and returns without waiting for it. This default
  // restores when waited for.
  virtual std::unique_ptr<PendingRestore> start_restore(const std::string& path, Deadline deadline);
};

// --- Test networks (docs/networking.md) ---

// What a test asked of a link; unset fields leave it alone.
struct LinkImpairmentsSpec {
  std::optional<double> latency_ms;
  std::optional<double> loss_pct;  // 0..100
  std::optional<std::uint64_t> bandwidth_bps;
  bool operator==(const LinkImpairmentsSpec&) const = default;
};

// A bridge's whole policy, by VM name; sent whole on every change.
struct BridgePolicySpec {
  std::set<std::pair<std::string, std::string>> blocked;  // (from, to)
  std::set<std::string> isolated;
  LinkImpairmentsSpec whole;
  std::map<std::pair<std::string, std::string>, LinkImpairmentsSpec> pairs;
  bool operator==(const BridgePolicySpec&) const = default;
};

struct NicAddressing {
  std::string vm;
  std::array<std::uint8_t, 6> mac{};
  std::string address;  // "10.1.0.2/24"; empty when the NIC left the bridge
  std::uint32_t slot = 0;
};

struct VmHostEntries {
  std::string vm;
  std::vector<std::pair<std::string, std::string>> entries;  // (address, name)
};

// What the guests must be told after an attach or detach.
struct BridgeMembership {
  std::vector<NicAddressing> nics;
  std::vector<VmHostEntries> hosts;
};

struct NicCountersValue {
  std::uint64_t rx_bytes = 0, tx_bytes = 0, rx_packets = 0, tx_packets = 0, errors = 0;
};

// One bridge as the supervisor holds it. Methods throw std::runtime_error
// with the supervisor's reason.
class BridgeBackend {
 public:
  virtual ~BridgeBackend() = default;
  virtual BridgeMembership attach(const std::vector<VmBackend*>& vms) = 0;
  virtual BridgeMembership detach(const std::vector<std::string>& vms) = 0;
  virtual void set_policy(const BridgePolicySpec& policy) = 0;
  virtual NicCountersValue counters(const std::string& vm) = 0;
  virtual void set_link(const std::string& vm, bool up) = 0;
  // A pcap stream of the whole bridge (empty `vm`) or one VM's NIC.
  virtual kj::AutoCloseFd capture(const std::string& vm) = 0;
  virtual std::pair<std::string, std::string> enable_uplink() = 0;  // (gateway, host address)
  virtual void disable_uplink() = 0;
  // "user" or "kernel": which datapath realizes this bridge.
  virtual std::string datapath() const = 0;
};

// A VM restored from a fixture (provium:vm_fixture), as the supervisor made it.
struct FixtureVm {
  std::unique_ptr<VmBackend> backend;
  std::string name;     // the VM's name in the fixture
  std::string profile;
  RestoredVm restored;
};

// A lab snapshot's index (lab.json), as the supervisor reads and writes it.
struct LabSnapshotNicEntry {
  std::string bridge;  // its name in the lab
  std::uint32_t slot = 0;
};

struct LabSnapshotVmEntry {
  std::string name;  // its name in the lab
  std::string profile;
  std::string file;  // in the snapshot directory; empty: it was not running
  bool paused = false;
  std::vector<LabSnapshotNicEntry> nics;
};

struct LabSnapshotIndex {
  std::vector<std::string> bridges;
  std::vector<LabSnapshotVmEntry> vms;
};

// A lab snapshot directory as the supervisor resolved it, and its index.
struct LabSnapshotRead {
  std::string path;
  LabSnapshotIndex index;
};

struct ModuleSource {
  std::string chunk_name;
  std::string source;
};

class SupervisorLink {
 public:
  virtual ~SupervisorLink() = default;
  virtual ModuleSource load_module(const std::string& name) = 0;
  virtual std::unique_ptr<VmBackend> create_vm(const std::string& name, const std::string& profile,
                                               const VmSpec& spec) = 0;
  virtual std::unique_ptr<BridgeBackend> create_bridge(const std::string& name) {
    (void)name;
    throw std::runtime_error("bridges: not provided by this supervisor link");
  }
  // Snapshot files: size (nullopt when gone) and idempotent removal.
  virtual std::optional<std::uint64_t> snapshot_size(const std::string& path) {
    (void)path;
    throw std::runtime_error("snapshots: not provided by this supervisor link");
  }
  virtual void delete_snapshot(const std::string& path) {
    (void)path;
    throw std::runtime_error("snapshots: not provided by this supervisor link");
  }
  virtual FixtureVm vm_fixture(const std::string& name) {
    (void)name;
    throw std::runtime_error("fixtures: not provided by this supervisor link");
  }
  // Tells the supervisor of the file's claim (it records it; the runner enforces it).
  virtual void claim(const ResourceClaim& claim) { (void)claim; }
  // Lab snapshots (docs/snapshots.md): a directory, its index (lab.json).
  virtual std::string create_lab_snapshot(const std::string& path) {
    (void)path;
    throw std::runtime_error("lab snapshots: not provided by this supervisor link");
  }
  virtual void write_lab_index(const std::string& path, const LabSnapshotIndex& index) {
    (void)path, (void)index;
    throw std::runtime_error("lab snapshots: not provided by this supervisor link");
  }
  virtual LabSnapshotRead read_lab_index(const std::string& path) {
    (void)path;
    throw std::runtime_error("lab snapshots: not provided by this supervisor link");
  }
  virtual LabSnapshotRead lab_fixture(const std::string& name) {
    (void)name;
    throw std::runtime_error("fixtures: not provided by this supervisor link");
  }
  virtual void test_started(const std::string& name) = 0;
  virtual void test_finished(const TestOutcome& outcome) = 0;
};

// A supervisor call that did not finish before the caller's deadline.
class DeadlineExceeded : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace provium::runner
