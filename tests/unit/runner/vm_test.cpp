// VM userdata: lifecycle, guest operations, RunResult, and how failures of
// the guest or the supervisor surface.
#include "agent.capnp.h"
#include "lua_test_helpers.h"

#include <gtest/gtest.h>

namespace provium::runner::testing {
namespace {

TEST(Vm, BootsRunsAndMovesFiles) {
  FakeSupervisor supervisor;
  const FileOutcome file = run_lua_file(R"lua(
test("round trip", function(t)
  local vm = provium:vm("a", "peios", {memory = 268435456, files = {{path = "/etc/hostname", content = "a"}}})
  t:assert_eq(vm:boot({cpus = 2, kernel_cmdline = "quiet", rng_seed = 0xdeadbeef, initial_time = 1700000000.5}), vm)
  t:assert_eq(vm:state(), "booted")
  t:assert_eq(vm:cid(), 42)
  vm:write_file("/tmp/data", "hello")
  t:assert_eq(vm:read_file("/tmp/data"), "hello")
  local r = vm:run("echo hi")
  t:assert_eq(r.stdout, "hi\n")
  t:assert_eq(r.exit_code, 0)
  t:assert_eq(r.status, "exited")
  t:assert_eq(r.timed_out, false)
  t:assert_eq(r.signal, nil)
  t:assert(r:ok())
  t:assert_eq(r:assert_ok(), r)
  vm:shutdown()
  t:assert_eq(vm:state(), "shutdown")
  vm:close()
end)
)lua", supervisor);
  ASSERT_TRUE(all_passed(file));
  const auto vm = supervisor.vm("a");
  ASSERT_TRUE(vm);
  ASSERT_EQ(vm->booted_with.size(), 1u);
  const VmSpec& boot = vm->booted_with[0];
  EXPECT_EQ(boot.memory_bytes, 268435456u);  // from creation
  EXPECT_EQ(boot.cpus, 2u);                  // from boot
  EXPECT_EQ(boot.kernel_cmdline, "quiet");
  EXPECT_EQ(boot.rng_seed, 0xdeadbeefu);
  EXPECT_EQ(boot.initial_time_ns, 1700000000500000000);
  ASSERT_EQ(boot.files.size(), 1u);
  EXPECT_EQ(boot.files[0].path, "/etc/hostname");
  EXPECT_EQ(vm->shutdowns, 1);
}

TEST(Vm, RunArgumentForms) {
  FakeSupervisor supervisor;
  const FileOutcome file = run_lua_file(R"lua(
local vm = provium:vm("a", "peios"):boot()
test("forms", function(t)
  vm:run("echo hi")
  vm:run("echo", {"hi", 2})
  vm:run("echo", {args = {"x"}, env = {K = "v"}, env_clear = true, cwd = "/tmp", stdin = "in", timeout = "5s"})
  vm:run({"ls", "-l"}, {timeout_ms = 250})
  vm:run("cat", {stdin = "piped"})
end)
test("mixed forms", function(t) vm:run("echo", {"a", args = {"b"}}) end)
test("negative timeout", function(t) vm:run("true", {timeout = -1}) end)
test("nan timeout", function(t) vm:run("true", {timeout = 0/0}) end)
test("both timeouts", function(t) vm:run("true", {timeout = 1, timeout_ms = 5}) end)
test("unknown option", function(t) vm:run("true", {cdw = "/"}) end)
test("bad command", function(t) vm:run(42) end)
)lua", supervisor);
  EXPECT_EQ(outcome_named(file, "forms").status, TestStatus::passed) << outcome_named(file, "forms").message;
  ASSERT_TRUE(supervisor.vm("a") && supervisor.vm("a")->agent);
  const auto runs = supervisor.vm("a")->agent->runs();
  ASSERT_EQ(runs.size(), 5u);
  EXPECT_EQ(runs[0].argv, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(runs[1].argv, (std::vector<std::string>{"echo", "hi", "2"}));
  EXPECT_EQ(runs[2].argv, (std::vector<std::string>{"echo", "x"}));
  EXPECT_EQ(runs[2].env, (std::vector<std::pair<std::string, std::string>>{{"K", "v"}}));
  EXPECT_TRUE(runs[2].env_clear);
  EXPECT_EQ(runs[2].cwd, "/tmp");
  EXPECT_EQ(runs[2].stdin_data, "in");
  EXPECT_EQ(runs[2].timeout_ms, 5000u);
  EXPECT_EQ(runs[3].argv, (std::vector<std::string>{"ls", "-l"}));
  EXPECT_EQ(runs[3].timeout_ms, 250u);
  EXPECT_EQ(runs[4].argv, (std::vector<std::string>{"/bin/sh", "-c", "cat"}));
  EXPECT_NE(outcome_named(file, "mixed forms").message.find("mixed array entries"), std::string::npos);
  EXPECT_NE(outcome_named(file, "negative timeout").message.find("vm `a`: run: bad timeout: bad duration: -1 is negative"),
            std::string::npos) << outcome_named(file, "negative timeout").message;
  EXPECT_NE(outcome_named(file, "nan timeout").message.find("NaN"), std::string::npos);
  EXPECT_NE(outcome_named(file, "both timeouts").message.find("either timeout or timeout_ms"), std::string::npos);
  EXPECT_NE(outcome_named(file, "unknown option").message.find("unknown option `cdw`"), std::string::npos);
  EXPECT_NE(outcome_named(file, "bad command").message.find("expected a command string or an argv array, got number"),
            std::string::npos);
}

TEST(Vm, RunResultFailuresExplainThemselves) {
  const FileOutcome file = run_lua_file(R"lua(
local vm = provium:vm("a", "peios"):boot()
test("exit code", function(t)
  local r = vm:run("exit 3")
  t:assert_eq(r:ok(), false)
  t:assert_eq(r.exit_code, 3)
  r:assert_ok()
end)
test("signalled", function(t)
  local r = vm:run("kill")
  t:assert_eq(r.status, "signalled")
  t:assert_eq(r.signal, 9)
  t:assert_eq(r.exit_code, -1)
  r:assert_ok()
end)
test("timed out", function(t)
  local r = vm:run("slow")
  t:assert_eq(r.timed_out, true)
  t:assert_eq(r.status, "timed_out")
  t:assert_eq(r.exit_code, -2)
end)
)lua");
  EXPECT_EQ(outcome_named(file, "exit code").message,
            "tests/t.test.lua:7: vm `a`: command `exit 3` failed: status exited, exit code 3\nstdout: (empty)\n"
            "stderr: exiting 3\n");
  EXPECT_NE(outcome_named(file, "signalled").message.find("status signalled (SIGKILL), exit code -1"), std::string::npos);
  EXPECT_EQ(outcome_named(file, "timed out").status, TestStatus::passed) << outcome_named(file, "timed out").message;
}

TEST(Vm, WrongStateErrorsNameTheState) {
  const FileOutcome file = run_lua_file(R"lua(
test("run before boot", function(t) provium:vm("a", "peios"):run("true") end)
test("boot twice", function(t) provium:vm("a", "peios"):boot():boot() end)
test("after shutdown", function(t)
  local vm = provium:vm("a", "peios"):boot()
  vm:shutdown()
  vm:read_file("/x")
end)
test("agent error", function(t) provium:vm("a", "peios"):boot():read_file("/missing") end)
test("dot call", function(t) local vm = provium:vm("a", "peios") vm.state() end)
)lua");
  EXPECT_EQ(outcome_named(file, "run before boot").message,
            "tests/t.test.lua:2: vm `a`: run: VM is `created`, boot it first");
  EXPECT_NE(outcome_named(file, "boot twice").message.find("vm `a`: boot: VM is `booted`, already booted"),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "after shutdown").message.find("vm `a`: read_file `/x`: VM is `shutdown`"),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "agent error").message.find("vm `a`: read_file `/missing`: No such file or directory"),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "dot call").message.find("vm:state: expected a VM as self"), std::string::npos);
}

TEST(Vm, DeadGuestsAndBootFailuresShowTheConsole) {
  FakeSupervisor supervisor;
  supervisor.scripts["hangup"].misbehaviour = AgentMisbehaviour::close_after_hello;
  supervisor.scripts["garbage"].misbehaviour = AgentMisbehaviour::garbage_after_hello;
  supervisor.scripts["refused"].boot_error = "qemu exited: could not open kernel";
  supervisor.scripts["old"].misbehaviour = AgentMisbehaviour::old_protocol;
  supervisor.scripts["wrong"].misbehaviour = AgentMisbehaviour::wrong_variant;
  supervisor.scripts["stray"].misbehaviour = AgentMisbehaviour::stray_reply_first;
  const FileOutcome file = run_lua_file(R"lua(
test("agent hangs up", function(t)
  local vm = provium:vm("hangup", "peios"):boot()
  local ok, err = pcall(vm.run, vm, "true")
  t:assert_eq(vm:state(), "dead")
  error(err, 0)
end)
test("garbage", function(t)
  local vm = provium:vm("garbage", "peios"):boot()
  local ok, err = pcall(vm.read_file, vm, "/x")
  t:assert_eq(vm:state(), "dead")
  error(err, 0)
end)
test("boot refused", function(t) provium:vm("refused", "peios"):boot() end)
test("old agent", function(t) provium:vm("old", "peios"):boot() end)
test("wrong answer", function(t) provium:vm("wrong", "peios"):boot():run("true") end)
test("stray replies are dropped", function(t)
  t:assert_eq(provium:vm("stray", "peios"):boot():run("echo ok").stdout, "ok\n")
end)
)lua", supervisor);
  const std::string console = "--- last console output of vm `hangup` ---\n[    0.000000] Linux version fake\nfake login:";
  EXPECT_NE(outcome_named(file, "agent hangs up").message.find("vm `hangup`: run: the guest died (agent channel closed)\n" + console),
            std::string::npos) << outcome_named(file, "agent hangs up").message;
  EXPECT_NE(outcome_named(file, "garbage").message.find("vm `garbage`: read_file `/x`: agent protocol error"),
            std::string::npos) << outcome_named(file, "garbage").message;
  EXPECT_NE(outcome_named(file, "boot refused")
                .message.find("vm `refused`: boot failed: qemu exited: could not open kernel\n--- last console output"),
            std::string::npos) << outcome_named(file, "boot refused").message;
  EXPECT_NE(outcome_named(file, "old agent").message.find("the agent speaks protocol 0, this runner speaks " + std::to_string(provium::wire::agent::PROTOCOL_VERSION)),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "wrong answer").message.find("agent answered `run` with `done`"), std::string::npos);
  EXPECT_EQ(outcome_named(file, "stray replies are dropped").status, TestStatus::passed)
      << outcome_named(file, "stray replies are dropped").message;
}

TEST(Vm, TimeoutTearsDownTheWholeLab) {
  FakeSupervisor supervisor;
  supervisor.scripts["mute"].misbehaviour = AgentMisbehaviour::silent;
  const FileOutcome file = run_lua_file(R"lua(
local shared = provium:vm("shared", "peios"):boot()
test("boot never answers", {timeout = "300ms"}, function(t)
  provium:vm("mute", "peios"):boot()
end)
test("shared is gone", function(t)
  t:assert_eq(shared:state(), "shutdown")
end)
)lua", supervisor);
  EXPECT_EQ(outcome_named(file, "boot never answers").message, "test timed out after 300ms");
  EXPECT_EQ(outcome_named(file, "shared is gone").status, TestStatus::passed)
      << outcome_named(file, "shared is gone").message;
  EXPECT_EQ(supervisor.vm("shared")->shutdowns, 1);
  EXPECT_EQ(supervisor.vm("mute")->shutdowns, 1);
}

}  // namespace
}  // namespace provium::runner::testing
