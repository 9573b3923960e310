# Host <-> guest agent protocol.
#
# Frames travel over one byte stream (virtio-serial, vsock, or a socketpair for
# --vmm local). Each frame is a little-endian u32 byte length followed by a
# Cap'n Proto message in flat-array form (see ipc/frame.h). Requests carry an id
# chosen by the host; every response echoes it, so many ops can be in flight on
# one connection at once.
@0xbaef02b42a4fd2ea;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("provium::wire::agent");

# Bump on any change to a struct, union, enum or constant in this file; the pin
# test (tests/unit/agent/protocol_pin_test.cpp) fails until it moves together
# with the shape recorded in tests/unit/agent/agent_schema.pin.
const protocolVersion :UInt32 = 4;

# OpenFileRequest.mode bits. At least one of read, write and append is required.
const openRead :UInt32 = 0x01;
const openWrite :UInt32 = 0x02;
const openCreate :UInt32 = 0x04;
const openTruncate :UInt32 = 0x08;
const openAppend :UInt32 = 0x10;
const openExclusive :UInt32 = 0x20;

# Three kinds of frame travel from the agent to the host, all as a Response:
#  - answers: `id` echoes the request; exactly one per request, except that
#    streamCredit is never answered (it is a window update, like TCP's);
#  - events: the `event` arm, id 0, unsolicited (stream data and stream ends);
#  - a complaint about an unparseable frame: `error` with id 0.
#
# Streams. Stream-opening requests (spawn, tailFile, fdStream, readFileStream)
# answer with stream ids; the bytes then arrive as `streamData` events and the
# stream finishes with one `streamEnd` (unless the host closes it first). Flow
# control is by credit: the host grants bytes with streamCredit (or
# initialCredit when opening), the agent sends at most the granted total, and
# while it has no credit it stops reading the source, so a chatty process
# blocks on its pipe instead of filling agent memory. Each grant adds to the
# window; grant again as data is consumed.
#
# Workers. spawnWorker starts a second agent process (with the given
# credentials) behind the main one. A request with `worker` set is forwarded to
# that process unchanged, and every frame it sends carries the same `worker`,
# so handle, process and stream ids are per worker. Workers run concurrently
# with the main agent and with each other.
#
# Sessions. A hello (or the host going away) ends the host session: open file
# handles and streams are closed, spawned processes are killed (SIGKILL to
# their process groups) and reaped, and workers are stopped.

struct Request {
  id @0 :UInt64;
  union {
    hello @1 :Hello;
    ping @2 :Void;
    run @3 :RunRequest;
    readFile @4 :PathArg;
    writeFile @5 :WriteFileRequest;
    powerOff @6 :Void;

    # Paths. stat does not follow a final symlink (lstat).
    stat @7 :PathArg;
    listdir @8 :PathArg;            # sorted by name, without . and ..
    mkdir @9 :MkdirRequest;
    unlink @10 :PathArg;            # a file, or an empty directory
    rename @11 :RenameRequest;

    # File handles. A handle id is the agent's descriptor number, so it can be
    # passed as an fd argument to syscall and ioctl.
    openFile @12 :OpenFileRequest;  # -> handle
    fileRead @13 :FileReadRequest;  # -> data (empty at end of file)
    fileWrite @14 :FileWriteRequest;  # -> written
    fileSeek @15 :FileSeekRequest;  # -> offset
    fileTell @16 :HandleArg;        # -> offset
    fileClose @17 :HandleArg;       # -> done

    # Layer 0: raw system calls, made in the (worker) agent process itself.
    syscall @18 :SyscallRequest;
    ioctl @19 :IoctlRequest;

    # Processes the host drives itself (vm:run_async).
    spawn @20 :SpawnRequest;        # -> processStarted
    processWrite @21 :ProcessWriteRequest;  # -> written, once all of it is in the pipe
    processCloseStdin @22 :ProcessArg;
    processSignal @23 :ProcessSignalRequest;
    processWait @24 :ProcessWaitRequest;  # -> processState

    # Streams (see the top of this file).
    tailFile @25 :TailFileRequest;  # -> streamStarted
    fdStream @26 :FdStreamRequest;  # -> streamStarted
    readFileStream @27 :ReadFileStreamRequest;  # -> streamStarted; ends at end of file
    streamCredit @28 :StreamCreditRequest;  # never answered
    streamClose @29 :StreamArg;     # -> done; no events for the stream follow

    # The guest's clocks. Advancing is get + set on the host.
    clockGet @30 :Void;             # -> clock
    clockSet @31 :ClockSetRequest;  # -> done

    # Workers (see the top of this file). Served by the main agent only.
    spawnWorker @32 :SpawnWorkerRequest;  # -> workerStarted, once it answered a hello
    closeWorker @33 :WorkerArg;     # -> done, once it has exited

    # Networking (see the end of this file). Served by the main agent only.
    configureNic @35 :ConfigureNicRequest;  # -> done, once the addresses are on the interface
    setHosts @36 :SetHostsRequest;          # -> done

    # Mixes these bytes into the kernel's entropy pool (credited) and reseeds
    # its generator at once, so a guest restored from a snapshot stops
    # producing the same random numbers as every other copy. Main agent only.
    addEntropy @37 :Data;                   # -> done
  }
  worker @34 :UInt32;               # 0: the main agent serves it; otherwise that worker
}

struct Hello {
  protocolVersion @0 :UInt32;
}

struct PathArg {
  path @0 :Text;
}

struct EnvVar {
  name @0 :Text;
  value @1 :Text;
}

struct RunRequest {
  argv @0 :List(Text);       # argv[0] is looked up on PATH
  env @1 :List(EnvVar);
  envClear @2 :Bool;         # true: the child sees only `env`
  cwd @3 :Text;              # empty: the agent's cwd (/)
  stdin @4 :Data;
  timeoutMs @5 :UInt64;      # 0: no timeout; on expiry the whole process group is killed
}

struct WriteFileRequest {
  path @0 :Text;
  data @1 :Data;
  mode @2 :UInt32;           # permission bits for a newly created file
}

struct Response {
  id @0 :UInt64;
  union {
    error @1 :Error;
    helloOk @2 :HelloOk;
    pong @3 :Void;
    run @4 :RunResult;
    data @5 :Data;
    done @6 :Void;
    stat @7 :StatResult;
    dirEntries @8 :List(DirEntry);
    handle @9 :UInt64;
    written @10 :UInt64;
    offset @11 :UInt64;
    syscall @12 :SyscallResult;
    ioctl @13 :IoctlResult;
    processStarted @14 :ProcessStarted;
    processState @15 :ProcessState;
    streamStarted @16 :StreamStarted;
    clock @17 :ClockReading;
    workerStarted @18 :WorkerStarted;
    event @19 :Event;               # unsolicited; id is 0
  }
  worker @20 :UInt32;               # the worker that sent it; 0: the main agent
}

struct Error {
  errno @0 :Int32;           # 0 when the failure is not a system error
  message @1 :Text;
}

struct HelloOk {
  protocolVersion @0 :UInt32;
  agentVersion @1 :Text;
  guestOs @2 :Text;
  features @3 :List(Text);
}

struct RunResult {
  status @0 :RunStatus;
  exitCode @1 :Int32;        # -1 signalled, -2 timed out
  signal @2 :Int32;          # 0 unless signalled
  stdout @3 :Data;
  stderr @4 :Data;
}

enum RunStatus {
  exited @0;
  signalled @1;
  timedOut @2;
}

# --- paths -------------------------------------------------------------------

struct MkdirRequest {
  path @0 :Text;
  parents @1 :Bool;          # create missing parents (0755); an existing directory is fine
  perm @2 :UInt32 = 0x1ed;   # 0755; exact (the umask does not apply)
}

struct RenameRequest {
  from @0 :Text;
  to @1 :Text;
}

enum EntryType {
  file @0;
  directory @1;
  symlink @2;
  fifo @3;
  socket @4;
  blockDevice @5;
  charDevice @6;
  other @7;
}

struct StatResult {
  size @0 :UInt64;
  mtimeNs @1 :Int64;         # since the epoch
  perm @2 :UInt32;           # mode & 07777
  entryType @3 :EntryType;
  uid @4 :UInt32;
  gid @5 :UInt32;
  nlink @6 :UInt64;
  inode @7 :UInt64;
}

struct DirEntry {
  name @0 :Text;
  entryType @1 :EntryType;
}

# --- file handles --------------------------------------------------------------

struct OpenFileRequest {
  path @0 :Text;
  mode @1 :UInt32;           # open* bits (see the constants above)
  perm @2 :UInt32 = 0x1a4;   # 0644, for a file this open creates; exact (no umask)
}

struct HandleArg {
  handle @0 :UInt64;
}

struct FileReadRequest {
  handle @0 :UInt64;
  maxBytes @1 :UInt32;       # capped at one frame
  offset @2 :Int64 = -1;     # -1: at the cursor (read); otherwise pread at this offset
}

struct FileWriteRequest {
  handle @0 :UInt64;
  data @1 :Data;
  offset @2 :Int64 = -1;     # -1: at the cursor (write); otherwise pwrite at this offset
}

enum SeekWhence {
  set @0;
  cur @1;
  end @2;
}

struct FileSeekRequest {
  handle @0 :UInt64;
  offset @1 :Int64;
  whence @2 :SeekWhence;
}

# --- layer 0 -------------------------------------------------------------------

# Runs in the agent process itself, so effects persist (fds it opens, memory it
# maps) and getpid() is the agent's. Refused: calls that would end or replace
# the agent (exit, exit_group, execve, execveat, fork, vfork, clone, clone3),
# signals aimed at the agent or PID 1, and closing or replacing a descriptor the
# agent is using. A call that blocks stalls the agent (or worker) serving it;
# run such calls in a worker.
struct SyscallRequest {
  nr @0 :Int64;
  args @1 :List(Int64);      # up to 6; missing ones are 0
  bufs @2 :List(Data);       # copied into agent memory for the call
  ptrs @3 :List(UInt8);      # bufs[i]'s address replaces args[ptrs[i]] (slot 0-5)
}

struct SyscallResult {
  ret @0 :Int64;             # the raw return value (-1 on failure)
  errno @1 :Int32;           # 0 unless the call failed
  outBufs @2 :List(Data);    # every buf after the call
}

struct IoctlRequest {
  fd @0 :Int32;              # an agent descriptor, e.g. a file handle id
  cmd @1 :UInt64;
  arg @2 :UInt64;            # the third argument when `data` is absent
  data @3 :Data;             # when present, copied and its address is the third argument
  bufs @4 :List(Data);       # copied; bufs[i]'s address is stored (8 bytes, native
  ptrOffsets @5 :List(UInt32);  # order) at byte ptrOffsets[i] of data
}

struct IoctlResult {
  ret @0 :Int64;
  errno @1 :Int32;
  outData @2 :Data;
  outBufs @3 :List(Data);
}

# --- processes -----------------------------------------------------------------

struct SpawnRequest {
  command @0 :RunRequest;    # timeoutMs must be 0 (processWait has the deadline);
                             # stdin is written first and stays open for processWrite
  initialCredit @1 :UInt64;  # granted at once to each of the stdout and stderr streams
}

struct ProcessArg {
  process @0 :UInt64;
}

struct ProcessStarted {
  process @0 :UInt64;
  pid @1 :Int32;             # also its process group id
  stdoutStream @2 :UInt64;
  stderrStream @3 :UInt64;
}

struct ProcessWriteRequest {
  process @0 :UInt64;
  data @1 :Data;
}

struct ProcessSignalRequest {
  process @0 :UInt64;
  signal @1 :Int32;
  group @2 :Bool;            # the whole process group rather than the process
}

struct ProcessWaitRequest {
  process @0 :UInt64;
  timeoutMs @1 :UInt64;      # 0: answer at once (a status poll)
  forever @2 :Bool;          # ignore timeoutMs: answer when it exits
}

# Once a wait has reported the exit, the process id is forgotten. Its output
# streams run on to their own end.
struct ProcessState {
  running @0 :Bool;          # the wait ran out first; the fields below are unset
  status @1 :RunStatus;
  exitCode @2 :Int32;        # -1 when signalled
  signal @3 :Int32;
}

# --- streams -------------------------------------------------------------------

struct StreamArg {
  stream @0 :UInt64;
}

enum TailOrigin {
  beginning @0;
  end @1;
}

# Follows the file opened (like tail -f): appends are seen through inotify, and
# when the file shrinks below the position read so far it is read again from 0.
struct TailFileRequest {
  path @0 :Text;
  origin @1 :TailOrigin;
  offset @2 :Int64;          # added to origin; the start is clamped to [0, size]
  initialCredit @3 :UInt64;
}

struct FdStreamRequest {
  handle @0 :UInt64;         # streams from the handle's cursor (and moves it)
  follow @1 :Bool;           # regular files: keep following appends past the end
  initialCredit @2 :UInt64;
}

struct ReadFileStreamRequest {
  path @0 :Text;
  initialCredit @1 :UInt64;
}

struct StreamStarted {
  stream @0 :UInt64;
  startOffset @1 :UInt64;    # where a file stream starts reading
  size @2 :UInt64;           # a regular file's size when the stream opened, else 0
}

struct StreamCreditRequest {
  stream @0 :UInt64;
  bytes @1 :UInt64;          # added to the stream's window
}

struct Event {
  union {
    streamData @0 :StreamData;
    streamEnd @1 :StreamEnd;
  }
}

struct StreamData {
  stream @0 :UInt64;
  data @1 :Data;
  afterTruncation @2 :Bool;  # tails: the file shrank; `data` starts again at offset 0
}

enum StreamEndReason {
  sourceEnded @0;            # end of file, or every writer closed the pipe
  failed @1;                 # a read failed; see errno and message
}

struct StreamEnd {
  stream @0 :UInt64;
  reason @1 :StreamEndReason;
  errno @2 :Int32;
  message @3 :Text;
}

# --- clock ---------------------------------------------------------------------

struct ClockReading {
  realtimeNs @0 :Int64;      # CLOCK_REALTIME, since the epoch
  monotonicNs @1 :Int64;     # CLOCK_MONOTONIC
}

struct ClockSetRequest {
  realtimeNs @0 :Int64;
}

# --- workers -------------------------------------------------------------------

struct SpawnWorkerRequest {
  uid @0 :UInt32;            # credentials of the worker and everything it starts
  gid @1 :UInt32;
  groups @2 :List(UInt32);   # supplementary groups (none when empty)
}

struct WorkerArg {
  worker @0 :UInt32;
}

struct WorkerStarted {
  worker @0 :UInt32;
  pid @1 :Int32;
}

# --- networking ----------------------------------------------------------------
# The host attaches a NIC to a bridge and tells the agent its addresses; the
# agent configures them over rtnetlink before the attach returns. Names of the
# other members go in a block of /etc/hosts the agent owns (between
# "# provium: begin" and "# provium: end"); the rest of the file is kept.

struct ConfigureNicRequest {
  mac @0 :Data;                # 6 bytes: the interface with this hardware address
  addresses @1 :List(Text);    # IPv4 "a.b.c.d/len"; they replace the interface's IPv4 addresses
  up @2 :Bool;                 # bring the link up (true) or down (false)
  # 6 bytes, or empty. When no interface has `mac` yet, the one with this
  # address takes `mac` first: a guest restored from a lab snapshot into
  # other VMs still has the MAC addresses its NICs had when it was taken.
  previousMac @3 :Data;
}

struct SetHostsRequest {
  entries @0 :List(HostEntry);  # replaces the whole managed block
}

struct HostEntry {
  address @0 :Text;
  names @1 :List(Text);
}
