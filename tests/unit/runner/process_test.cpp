// Processes and batches: the agent client's spawn/wait (output taken while
// waiting, so a process whose output exceeds the credit window still
// exits), pipelined batches, signal names, and run_async/batch from Lua
// against the fake agent.
#include "fake_agent.h"
#include "lua_test_helpers.h"

#include <agent_client.h>
#include <signal_names.h>

#include <gtest/gtest.h>

#include <csignal>

namespace provium::runner::testing {
namespace {

constexpr auto kGenerous = std::chrono::seconds(10);

// A run handler printing `size` bytes on stdout and "e" on stderr, exit 4.
FakeAgent::RunHandler chatty(std::size_t size) {
  return [size](const SeenRun&) { return FakeRun{wire::agent::RunStatus::EXITED, 4, 0, std::string(size, 'x'), "e"}; };
}

TEST(ProcessClient, WaitTakesOutputBeyondTheWindow) {
  AgentPair pair = make_agent_pair(AgentMisbehaviour::none, chatty(3 * kStreamWindow));
  AgentClient client(std::move(pair.client_fd));
  client.hello(wire::agent::PROTOCOL_VERSION, Deadline::after(kGenerous));
  GuestCommand command;
  command.argv = {"chatty"};
  const SpawnedProcess spawned = client.spawn(command, Deadline::after(kGenerous));
  EXPECT_EQ(client.open_stream_count(), 2u);
  std::string out;
  std::string err;
  const Deadline deadline = Deadline::after(kGenerous);
  const ProcessExit exit = client.process_wait(spawned.process, std::nullopt, deadline, 0, [&] {
    out += client.stream_take_buffered(spawned.stdout_key, kStreamWindow, deadline);
    err += client.stream_take_buffered(spawned.stderr_key, kStreamWindow, deadline);
  });
  EXPECT_FALSE(exit.running);
  EXPECT_EQ(exit.exit_code, 4);
  // The fake's process "exits" only once all its output was sent, which
  // takes credit the pump granted.
  EXPECT_EQ(out.size(), 3 * kStreamWindow);
  EXPECT_EQ(err, "e");
}

TEST(ProcessClient, WithoutTakingOutputTheProcessNeverExits) {
  AgentPair pair = make_agent_pair(AgentMisbehaviour::none, chatty(3 * kStreamWindow));
  AgentClient client(std::move(pair.client_fd));
  client.hello(wire::agent::PROTOCOL_VERSION, Deadline::after(kGenerous));
  GuestCommand command;
  command.argv = {"chatty"};
  const SpawnedProcess spawned = client.spawn(command, Deadline::after(kGenerous));
  // A poll answers "running" at once.
  EXPECT_TRUE(client.process_wait(spawned.process, Millis(0), Deadline::after(kGenerous)).running);
  try {
    client.process_wait(spawned.process, std::nullopt, Deadline::after(std::chrono::milliseconds(300)));
    FAIL() << "expected a timeout";
  } catch (const AgentError& error) {
    EXPECT_EQ(error.kind(), AgentError::Kind::timeout);
  }
  // The window is full: exactly one window's worth is buffered here.
  EXPECT_EQ(client.stream_buffered(spawned.stdout_key), kStreamWindow);
}

TEST(BatchClient, PipelinesAndReportsEachOpsOutcome) {
  AgentPair pair = make_agent_pair();
  AgentClient client(std::move(pair.client_fd));
  client.hello(wire::agent::PROTOCOL_VERSION, Deadline::after(kGenerous));
  GuestCommand echo;
  echo.argv = {"/bin/sh", "-c", "echo hi"};
  const std::vector<BatchOp> ops = {
      BatchWriteFile{"/a", "1"}, BatchReadFile{"/a"}, BatchReadFile{"/missing"}, BatchRun{echo}, BatchStat{"/a"},
  };
  const auto outcomes = client.batch(ops, Deadline::after(kGenerous));
  ASSERT_EQ(outcomes.size(), 5u);
  EXPECT_TRUE(outcomes[0].ok);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(outcomes[0].value));
  EXPECT_EQ(std::get<std::string>(outcomes[1].value), "1");
  EXPECT_FALSE(outcomes[2].ok);
  EXPECT_EQ(outcomes[2].error, "No such file or directory");
  EXPECT_EQ(std::get<CommandResult>(outcomes[3].value).stdout_data, "hi\n");
  EXPECT_EQ(std::get<GuestStat>(outcomes[4].value).size, 1u);
  // The client is still usable, and nothing of the batch lingers.
  client.ping(Deadline::after(kGenerous));
  EXPECT_TRUE(client.batch({}, Deadline::after(kGenerous)).empty());
}

TEST(BatchClient, RefusesOversizedBatches) {
  AgentPair pair = make_agent_pair();
  AgentClient client(std::move(pair.client_fd));
  const std::vector<BatchOp> ops(kMaxBatchOps + 1, BatchStat{"/"});
  EXPECT_THROW(client.batch(ops, Deadline::after(kGenerous)), std::invalid_argument);
}

TEST(SignalNames, DocumentedNamesNumbersAndCase) {
  EXPECT_EQ(signal_by_name("term"), SIGTERM);
  EXPECT_EQ(signal_by_name("SIGTERM"), SIGTERM);
  EXPECT_EQ(signal_by_name("15"), SIGTERM);
  EXPECT_EQ(signal_by_name("Kill"), SIGKILL);
  EXPECT_EQ(signal_by_name("sigkill"), SIGKILL);
  EXPECT_EQ(signal_by_name("9"), SIGKILL);
  EXPECT_EQ(signal_by_name("usr1"), SIGUSR1);
  EXPECT_EQ(signal_by_name("SIGUSR2"), SIGUSR2);
  EXPECT_EQ(signal_by_name("winch"), SIGWINCH);
  EXPECT_EQ(signal_by_name("stop"), SIGSTOP);
  EXPECT_EQ(signal_by_name("chld"), SIGCHLD);
  EXPECT_EQ(signal_by_name("bogus"), std::nullopt);
  EXPECT_EQ(signal_by_name(""), std::nullopt);
  EXPECT_EQ(signal_by_name("sig"), std::nullopt);
  EXPECT_EQ(signal_by_name("99"), std::nullopt);
}

TEST(ProcessLua, RunAsyncWaitAndBatchAgainstTheFakeAgent) {
  FakeSupervisor supervisor;
  const FileOutcome file = run_lua_file(R"lua(
local vm = provium:vm("a", "peios"):boot()
test("wait", function(t)
  local proc = vm:run_async("echo hello")
  t:assert_eq(proc:pid(), 101)
  t:assert_eq(proc:handle(), 1)
  local r = proc:wait("10s")
  t:assert_eq(r.stdout, "hello\n")
  t:assert_eq(r.status, "exited")
  t:assert_eq(proc:status(), "exited")
  t:assert(vm:is_quiescent())
end)
test("timeout refused", function(t) vm:run_async("true", {timeout = 1}) end)
test("zero wait refused", function(t) vm:run_async("true"):wait(0) end)
test("batch", function(t)
  local results = vm:batch(function(b)
    b:write_file("/x", "y")
    b:read_file("/x")
    b:stat("/nope")
  end)
  t:assert_eq(#results, 3)
  t:assert_eq(results[2].ok, "y")
  t:assert_contains(results[3].err, "No such file or directory")
end)
)lua", supervisor);
  EXPECT_EQ(outcome_named(file, "wait").status, TestStatus::passed) << outcome_named(file, "wait").message;
  EXPECT_NE(outcome_named(file, "timeout refused").message.find("give the timeout to proc:wait(timeout)"),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "zero wait refused").message.find("use proc:status()"), std::string::npos);
  EXPECT_EQ(outcome_named(file, "batch").status, TestStatus::passed) << outcome_named(file, "batch").message;
  EXPECT_EQ(file.tests.size(), 4u);
}

}  // namespace
}  // namespace provium::runner::testing
