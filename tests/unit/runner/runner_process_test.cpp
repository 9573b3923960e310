// The real provium-runner binary, started the way the supervisor starts it
// (empty environment, stdin /dev/null, RPC socket on fd 3) and served by an
// in-process fake Session: proves the sandbox lets the whole RPC + agent path
// through, and that the test hooks crash it the documented ways.
#include "fake_session_server.h"

#include <subprocess.h>

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <string>

#ifndef PROVIUM_RUNNER_PATH
#error "PROVIUM_RUNNER_PATH must name the provium-runner binary under test"
#endif

namespace provium::runner::testing {
namespace {

struct RunnerRun {
  SessionRecord record;
  ExitStatus exit;
  bool hung = false;
  std::string stdout_text;
  std::string stderr_text;
};

std::string drain(int fd) {
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t got = read(fd, buffer, sizeof buffer);
    if (got <= 0) return text;
    text.append(buffer, static_cast<std::size_t>(got));
  }
}

RunnerRun run_runner(const SessionScript& script, int limit_seconds = 30) {
  RunnerRun run;
  auto io = kj::setupAsyncIo();
  int sockets[2];
  int out[2];
  int err[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
      pipe2(err, O_CLOEXEC) != 0) {
    throw std::runtime_error("cannot make the runner's pipes");
  }
  kj::AutoCloseFd ours(sockets[0]);
  kj::AutoCloseFd theirs(sockets[1]);
  kj::AutoCloseFd out_read(out[0]);
  kj::AutoCloseFd out_write(out[1]);
  kj::AutoCloseFd err_read(err[0]);
  kj::AutoCloseFd err_write(err[1]);
  kj::AutoCloseFd dev_null(open("/dev/null", O_RDONLY | O_CLOEXEC));

  SpawnSpec spec;
  spec.argv = {PROVIUM_RUNNER_PATH, "--ipc-fd=3"};
  spec.fds = {{0, dev_null.get()}, {1, out_write.get()}, {2, err_write.get()}, {3, theirs.get()}};
  Subprocess child = Subprocess::spawn(spec);
  theirs = nullptr;
  out_write = nullptr;
  err_write = nullptr;

  auto stream = io.lowLevelProvider->wrapUnixSocketFd(ours.release(), kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
  // Cap'n Proto 0.9 attaches fds to outgoing messages only when
  // maxFdsPerMessage > 0 on the sending side too: the supervisor must do the
  // same for AgentChannel.getFd() to reach the runner.
  capnp::TwoPartyVatNetwork network(*stream, 1, capnp::rpc::twoparty::Side::SERVER);
  auto finished = kj::newPromiseAndFulfiller<void>();
  auto rpc_system = capnp::makeRpcServer(network, make_fake_session(script, run.record, kj::mv(finished.fulfiller)));
  try {
    io.provider->getTimer().timeoutAfter(limit_seconds * kj::SECONDS, network.onDisconnect()).wait(io.waitScope);
  } catch (const kj::Exception&) {
    run.hung = true;
  }
  run.exit = run.hung ? child.kill_and_wait() : child.wait();
  run.stdout_text = drain(out_read.get());
  run.stderr_text = drain(err_read.get());
  return run;
}

// The runner refuses to start unless it can drop every capability, which
// takes the privileges the supervisor has.
#define SKIP_UNLESS_ROOT() \
  if (geteuid() != 0) GTEST_SKIP() << "provium-runner needs a privileged parent to apply its sandbox"

bool contains(const std::vector<std::string>& items, const std::string& wanted) {
  return std::find(items.begin(), items.end(), wanted) != items.end();
}

TEST(RunnerProcess, RunsAFileEndToEnd) {
  SKIP_UNLESS_ROOT();
  SessionScript script;
  script.modules["helpers"] = "return {double = function(x) return 2 * x end}";
  script.source = R"lua(
local helpers = require("helpers")
local vm = provium:vm("a", "peios", {cpus = 2}):boot()
print("booted " .. vm:name() .. " cid " .. tostring(vm:cid()))
test("runs a command", function(t)
  local r = vm:run("echo hello")
  r:assert_ok()
  t:assert_eq(r.stdout, "hello\n")
  vm:write_file("/tmp/x", json.encode({n = helpers.double(21)}))
  t:assert_eq(json.decode(vm:read_file("/tmp/x")).n, 42)
  t:log("logged")
end)
test("fails on purpose", function(t) t:assert_eq(1, 2, "1 must equal 2") end)
test("slow one", {slow = true}, function(t) end)
test("scoped vm", function(t)
  provium:vm("b", "peios"):boot():run({"true"}):assert_ok()
end)
test("unknown profile", function(t) provium:vm("c", "nope") end)
test("times out", {timeout = "200ms"}, function(t) while true do end end)
test("os and time work in the sandbox", function(t)
  t:assert(os.time() > 0)
  t:assert(os.clock() >= 0)
  t:assert(#os.date("%Y-%m-%d") == 10)
  wait_until(function() return true end)
end)
)lua";
  const RunnerRun run = run_runner(script);
  ASSERT_FALSE(run.hung) << run.stderr_text;
  EXPECT_TRUE(run.exit.exited && run.exit.code == 0) << run.exit.describe() << "\n" << run.stderr_text;
  EXPECT_EQ(run.record.runner_version, wire::runner::PROTOCOL_VERSION);
  ASSERT_TRUE(run.record.finished) << run.stderr_text;
  EXPECT_FALSE(run.record.has_chunk_error) << run.record.chunk_error;
  EXPECT_EQ(run.stdout_text, "booted a cid 3\n");
  const auto& tests = run.record.final_tests;
  ASSERT_EQ(tests.size(), 7u) << run.stderr_text;
  EXPECT_EQ(tests[0], "runs a command: passed");
  EXPECT_EQ(tests[1], "fails on purpose: failed: 1 must equal 2: 1 ~= 2");
  EXPECT_EQ(tests[2], "slow one: skipped: filtered: slow tests skipped (pass --include-slow)");
  EXPECT_EQ(tests[3], "scoped vm: passed");
  EXPECT_NE(tests[4].find("unknown profile: failed: "), std::string::npos);
  EXPECT_NE(tests[4].find("no profile named"), std::string::npos) << tests[4];
  EXPECT_EQ(tests[5], "times out: failed: test timed out after 200ms");
  EXPECT_EQ(tests[6], "os and time work in the sandbox: passed");
  EXPECT_TRUE(contains(run.record.events, "started runs a command"));
  EXPECT_FALSE(contains(run.record.events, "started slow one"));
  EXPECT_TRUE(contains(run.record.vm_events, "boot a cpus=2"));
  EXPECT_TRUE(contains(run.record.vm_events, "shutdown b"));
  // The timeout took the file's lab down.
  EXPECT_TRUE(contains(run.record.vm_events, "shutdown a"));
  ASSERT_FALSE(run.record.agents.empty());
  EXPECT_EQ(run.record.agents[0]->files().at("/tmp/x"), R"({"n":42})");
  EXPECT_NE(run.stderr_text.find("test `fails on purpose` failed at tests/e2e.test.lua:13: 1 must equal 2"),
            std::string::npos)
      << run.stderr_text;
}

TEST(RunnerProcess, ChunkErrorsAreReported) {
  SKIP_UNLESS_ROOT();
  SessionScript script;
  script.source = "test('never runs', function() end)\nthis_function_does_not_exist()\n";
  const RunnerRun run = run_runner(script);
  EXPECT_TRUE(run.exit.exited && run.exit.code == 0) << run.exit.describe() << run.stderr_text;
  EXPECT_TRUE(run.record.has_chunk_error);
  EXPECT_NE(run.record.chunk_error.find("tests/e2e.test.lua:2: attempt to call a nil value"), std::string::npos)
      << run.record.chunk_error;
  EXPECT_TRUE(run.record.final_tests.empty());
}

TEST(RunnerProcess, RefusesAnotherProtocolVersion) {
  SKIP_UNLESS_ROOT();
  SessionScript script;
  script.supervisor_version = 99;
  script.source = "test('x', function() end)";
  const RunnerRun run = run_runner(script);
  EXPECT_TRUE(run.exit.exited && run.exit.code == 1) << run.exit.describe();
  const std::string expected = "supervisor speaks runner protocol 99, this runner speaks " +
                               std::to_string(wire::runner::PROTOCOL_VERSION);
  EXPECT_NE(run.stderr_text.find(expected), std::string::npos)
      << run.stderr_text;
  EXPECT_FALSE(run.record.finished);
}

struct HookCase {
  const char* call;
  bool exited;
  int code_or_signal;
};

class RunnerHooks : public ::testing::TestWithParam<HookCase> {};

TEST_P(RunnerHooks, CrashTheRunnerAsDocumented) {
  SKIP_UNLESS_ROOT();
  SessionScript script;
  script.test_hooks = true;
  script.source = std::string("test('before', function() end)\ntest('crash', function(t) _provium_test_hooks.") +
                  GetParam().call + " end)\n";
  const RunnerRun run = run_runner(script);
  ASSERT_FALSE(run.hung);
  EXPECT_EQ(run.exit.exited, GetParam().exited) << run.exit.describe() << run.stderr_text;
  EXPECT_EQ(run.exit.exited ? run.exit.code : run.exit.signal, GetParam().code_or_signal) << run.exit.describe();
  EXPECT_FALSE(run.record.finished);
  // Progress made before the crash reached the supervisor.
  EXPECT_TRUE(contains(run.record.events, "finished before: passed"));
  EXPECT_TRUE(contains(run.record.events, "started crash"));
}

INSTANTIATE_TEST_SUITE_P(Hooks, RunnerHooks,
                         ::testing::Values(HookCase{"segfault()", false, SIGSEGV}, HookCase{"abort()", false, SIGABRT},
                                           HookCase{"exit(7)", true, 7},
                                           HookCase{"forbidden_exec()", false, SIGSYS},
                                           HookCase{"forbidden_open('/etc/passwd')", false, SIGSYS},
                                           HookCase{"forbidden_socket()", false, SIGSYS}));

TEST(RunnerProcess, HangIsNotStoppedByTheTestDeadline) {
  SKIP_UNLESS_ROOT();
  SessionScript script;
  script.test_hooks = true;
  script.source = "test('hangs', {timeout = 0.1}, function(t) _provium_test_hooks.hang() end)\n";
  const RunnerRun run = run_runner(script, /*limit_seconds=*/2);
  EXPECT_TRUE(run.hung);
  EXPECT_FALSE(run.record.finished);
}

TEST(RunnerProcess, FailsCleanlyOnABogusFd) {
  for (const std::string arg : {"--ipc-fd=99", "--ipc-fd=0", "--ipc-fd=x", "--wrong"}) {
    SpawnSpec spec;
    spec.argv = {PROVIUM_RUNNER_PATH, arg};
    kj::AutoCloseFd dev_null(open("/dev/null", O_RDONLY | O_CLOEXEC));
    int err[2];
    ASSERT_EQ(pipe2(err, O_CLOEXEC), 0);
    kj::AutoCloseFd err_read(err[0]);
    {
      kj::AutoCloseFd err_write(err[1]);
      spec.fds = {{0, dev_null.get()}, {2, err_write.get()}};
      Subprocess child = Subprocess::spawn(spec);
      err_write = nullptr;
      const ExitStatus status = child.wait();
      EXPECT_TRUE(status.exited && status.code == 2) << arg << ": " << status.describe();
    }
    EXPECT_NE(drain(err_read.get()).find("provium-runner: "), std::string::npos) << arg;
  }
}

}  // namespace
}  // namespace provium::runner::testing
