# Supervisor <-> runner protocol (Cap'n Proto RPC over a socketpair).
#
# The supervisor serves `Session` as the bootstrap capability. The runner is
# untrusted: every argument below is checked by the supervisor before use.
@0xfa310e315915bd25;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("provium::wire::runner");

# Bump on any change in this file (see tests/unit/protocol_pin_test.cpp).
const protocolVersion :UInt32 = 8;

interface Session {
  # First call on every connection. The supervisor refuses a runner whose
  # version differs, naming both versions; the runner checks the reply too.
  hello @0 (runnerVersion :UInt32) -> (supervisorVersion :UInt32, job :FileJob);

  # `require(name)`: the supervisor resolves `name` under the configured roots,
  # refuses any path that leaves them, and returns the module's source.
  loadModule @1 (name :Text) -> (chunkName :Text, source :Data);

  # Declare a VM. The profile must exist in the supervisor's config.
  # `defaultMemoryBytes` and `defaultCpus` are the profile's size, which a
  # boot takes when its options leave memory or cpus unset (the runner checks
  # boots against the file's claim with them).
  createVm @2 (name :Text, profile :Text, options :VmOptions)
      -> (vm :Vm, defaultMemoryBytes :UInt64, defaultCpus :UInt32);

  # Progress, so a runner that dies mid-file still has its finished tests
  # reported and the running one named.
  testStarted @3 (name :Text);
  testFinished @4 (outcome :TestOutcome);

  # Last call of a healthy runner; the supervisor then expects it to exit 0.
  finish @5 (outcome :FileOutcome);

  # --- Test networks (docs/networking.md) ---
  # Declare a bridge; the same name gives the same bridge.
  # `datapath` is the run's choice for this file's networks: "user" or "kernel".
  createBridge @6 (name :Text) -> (bridge :Bridge, datapath :Text);

  # --- Snapshots (docs/snapshots.md): paths are checked against the
  # configured snapshot_dir; nothing outside it is read, written or removed.
  # `exists` false (size 0) when nothing is there any more.
  snapshotInfo @7 (path :Text) -> (exists :Bool, size :UInt64);
  # Idempotent: removing what is already gone is fine.
  deleteSnapshot @8 (path :Text);

  # `provium:vm_fixture(name)` (docs/fixtures.md): the supervisor finds
  # <name>.fixture.lua under this file's roots, builds it into the fixture
  # cache unless its key is there already (another runner runs the fixture),
  # and returns a new VM of this file restored from it, as Vm.restore does.
  vmFixture @9 (name :Text) -> (vm :Vm, vmName :Text, profile :Text, channel :AgentChannel, info :VmInfo,
                                entropy :Data, hostTimeNs :Int64, nicMacs :List(Data));

  # --- Lab snapshots (docs/snapshots.md): a directory in snapshot_dir
  # holding one snapshot file per VM and `lab.json`, written by the
  # supervisor from `index`. snapshotInfo sums a directory's files and
  # deleteSnapshot removes it with them.
  # Makes the directory (empty `path`: a new one in the scratch directory).
  createLabSnapshot @10 (path :Text) -> (path :Text);
  # Checks that every named snapshot file is in the directory and writes
  # lab.json; other snapshot files left there from before are removed.
  writeLabIndex @11 (path :Text, index :LabSnapshotIndex);
  # Reads lab.json back: `path` is the directory as the supervisor resolved it
  # (the runner restores `path`/<file> with Vm.restore).
  readLabIndex @12 (path :Text) -> (path :Text, index :LabSnapshotIndex);
  # `provium:lab_fixture(name)`: like vmFixture, for a fixture whose chunk
  # returns a lab snapshot; the cache entry's directory may then be restored
  # from (read only) by this file.
  labFixture @13 (name :Text) -> (path :Text, index :LabSnapshotIndex);

  # `provium:claim{...}` at the file's top level, once per file: the runner
  # enforces it on boots; the supervisor records it (claim events).
  claim @14 (amount :ResourceAmount);
}

# Memory and vCPUs; a field not given is not limited.
struct ResourceAmount {
  hasMemoryBytes @0 :Bool;
  memoryBytes @1 :UInt64;
  hasCpus @2 :Bool;
  cpus @3 :UInt32;
}

struct LabSnapshotIndex {
  bridges @0 :List(Text);      # the lab's bridges, by their names in the lab
  vms @1 :List(LabSnapshotVm);
}

struct LabSnapshotVm {
  name @0 :Text;               # its name in the lab
  profile @1 :Text;
  file @2 :Text;               # its snapshot file in the directory; empty: it was not running
  paused @3 :Bool;
  nics @4 :List(LabSnapshotNic);  # by slot
}

struct LabSnapshotNic {
  bridge @0 :Text;
  slot @1 :UInt32;
}

# --- Test networks ---------------------------------------------------------
# One bridge of this file. VMs are named by Vm capability on attach (the
# supervisor checks each is one of this session's own) and by name after
# (a name must be an attached member of this bridge).
interface Bridge {
  # Attaches every VM (all or none): each takes its next free NIC slot. The
  # runner then applies `nics` through each guest's agent (configureNic) and
  # `hosts` on every member (setHosts).
  attach @0 (vms :List(Vm)) -> (nics :List(NicAddressing), hosts :List(VmHosts));
  # Detaches by name; `nics` carries the detached NICs (to take down), `hosts`
  # the new name lists of every VM concerned.
  detach @1 (vms :List(Text)) -> (nics :List(NicAddressing), hosts :List(VmHosts));
  # Replaces the bridge's whole policy.
  setPolicy @2 (policy :BridgePolicy);
  counters @3 (vm :Text) -> (counters :NicCounters);
  # QMP set_link on the VM's NIC on this bridge.
  setLink @4 (vm :Text, up :Bool);
  # A pcap stream (getFd()) of the whole bridge (empty vm) or one VM's NIC.
  capture @5 (vm :Text) -> (channel :CaptureChannel);
  enableUplink @6 () -> (gateway :Text, hostAddress :Text);
  disableUplink @7 ();
}

interface CaptureChannel {}

struct NicAddressing {
  vm @0 :Text;
  mac @1 :Data;                # 6 bytes
  address @2 :Text;            # "10.1.0.2/24"
  slot @3 :UInt32;             # the guest's NIC index: eth<slot>
}

struct VmHosts {
  vm @0 :Text;
  entries @1 :List(HostName);
}

struct HostName {
  address @0 :Text;
  name @1 :Text;
}

struct BridgePolicy {
  blocked @0 :List(VmPair);
  isolated @1 :List(Text);
  whole @2 :LinkImpairments;
  pairs @3 :List(PairImpairments);
}

struct VmPair {
  from @0 :Text;
  to @1 :Text;
}

struct PairImpairments {
  from @0 :Text;
  to @1 :Text;
  impairments @2 :LinkImpairments;
}

# Each value applies only when its has* flag is set.
struct LinkImpairments {
  hasLatency @0 :Bool;
  latencyUs @1 :UInt64;
  hasJitter @2 :Bool;
  jitterUs @3 :UInt64;
  hasLoss @4 :Bool;
  loss @5 :Float64;            # fraction 0..1
  hasBandwidth @6 :Bool;
  bandwidthBps @7 :UInt64;
}

struct NicCounters {
  rxBytes @0 :UInt64;
  txBytes @1 :UInt64;
  rxPackets @2 :UInt64;
  txPackets @3 :UInt64;
  errors @4 :UInt64;
}
# --- end of test networks ---

struct FileJob {
  displayPath @0 :Text;        # as printed in results, e.g. tests/smoke.test.lua
  chunkName @1 :Text;          # "@tests/smoke.test.lua", for Lua error positions
  source @2 :Data;
  filter @3 :TestFilter;
  testHooks @4 :Bool;          # expose _provium_test_hooks (Provium's own tests only)
  fixture @5 :Bool;            # a *.fixture.lua: its chunk returns a Snapshot, it has no tests
}

struct TestFilter {
  includeSlow @0 :Bool;
  tags @1 :List(Text);
  noTags @2 :List(Text);
  tagMeta @3 :List(KeyValue);
  noTagMeta @4 :List(KeyValue);
}

struct KeyValue {
  key @0 :Text;
  value @1 :Text;
}

struct VmOptions {
  memoryBytes @0 :UInt64;      # 0: profile default
  cpus @1 :UInt32;             # 0: profile default
  kernelCmdline @2 :Text;      # empty: profile cmdline
  hasRngSeed @3 :Bool;
  rngSeed @4 :UInt64;
  hasInitialTime @5 :Bool;
  initialTimeNs @6 :Int64;
  files @7 :List(GuestFile);
}

struct GuestFile {
  path @0 :Text;
  content @1 :Data;
}

interface Vm {
  # Start the guest. The returned channel carries the agent connection's file
  # descriptor (read it with getFd()); the runner speaks ipc/agent.capnp on it.
  boot @0 (options :VmOptions) -> (channel :AgentChannel, info :VmInfo);
  shutdown @1 ();
  # The last `maxBytes` of the guest console, for failure reports.
  consoleTail @2 (maxBytes :UInt32) -> (text :Data);

  # The console as kept so far: its first bytes from power-on and its last
  # bytes (with a marker between them when output was dropped in the middle).
  consoleLog @3 () -> (text :Data);
  # A socket to the console (getFd()). With `output`, it first carries the
  # kept log, then live output; a reader that falls behind loses bytes (a
  # marker says how many) rather than stalling anyone. With `input`, what the
  # runner writes goes to the guest's console input (one input at a time).
  openConsole @4 (output :Bool, input :Bool) -> (channel :ConsoleChannel);

  # QMP stop / cont. Both refuse unless the VM is booted / paused.
  pause @5 ();
  resume @6 ();
  # Warm reboot; the guest boots again and its agent starts afresh. The
  # channel carries a new descriptor for the agent connection, with nothing
  # of the old agent left on it.
  reset @7 () -> (channel :AgentChannel);
  # ACPI power button; resolves once the guest powered itself off.
  powerButton @8 ();

  # `vm:push_file`: opens a host file for reading after checking that its
  # real path lies under the file's roots. `hostPath` is taken relative to
  # the directory of `relativeTo` (a display path such as
  # tests/lua/x.test.lua) when it is not absolute.
  openHostFile @9 (hostPath :Text, relativeTo :Text) -> (file :HostFile, size :UInt64, resolved :Text);

  # Writes the guest (RAM and device state) into a snapshot file at `path`
  # (empty: a new file in this test file's scratch directory, removed when
  # the file ends). A booted guest is stopped meanwhile and runs on after; a
  # paused one stays paused. The agent connection is untouched.
  snapshot @10 (path :Text) -> (path :Text, size :UInt64);
  # Starts a created or shut-down VM as the guest in the snapshot at `path`.
  # Like boot(), the channel carries the agent connection (the restored
  # agent answers a new hello); `entropy` is fresh random bytes for the
  # runner to hand the guest, `hostTimeNs` the host's wall clock to set.
  # `nicMacs`: the MAC address each NIC slot had in the snapshotted guest,
  # which the restored guest keeps until told its own (configureNic's
  # previousMac).
  restore @11 (path :Text) -> (channel :AgentChannel, info :VmInfo, entropy :Data, hostTimeNs :Int64,
                               nicMacs :List(Data));
}

interface AgentChannel {}

interface ConsoleChannel {}

interface HostFile {}

struct VmInfo {
  accel @0 :Text;              # "kvm" or "tcg" (or "local")
  cid @1 :UInt32;              # vsock CID, 0 when the guest has no vsock
  memoryBytes @2 :UInt64;
}

enum TestStatus {
  passed @0;
  failed @1;
  skipped @2;
}

struct TestOutcome {
  name @0 :Text;
  status @1 :TestStatus;
  message @2 :Text;
  log @3 :List(Text);
  durationNs @4 :UInt64;
}

struct FileOutcome {
  hasChunkError @0 :Bool;
  chunkError @1 :Text;
  tests @2 :List(TestOutcome);
  fixtureSnapshot @3 :Text;    # a fixture's returned Snapshot (its path; the supervisor checks it)
}
