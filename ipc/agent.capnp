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

# Bump on any change to a struct, union or enum in this file; the pin test in
# tests/unit/protocol_pin_test.cpp fails until it moves together with the shape.
const protocolVersion :UInt32 = 1;

struct Request {
  id @0 :UInt64;
  union {
    hello @1 :Hello;
    ping @2 :Void;
    run @3 :RunRequest;
    readFile @4 :PathArg;
    writeFile @5 :WriteFileRequest;
    powerOff @6 :Void;
  }
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
  }
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
