// Drives the real provium-agent binary over a socketpair (--connect-fd), the
// way --vmm local does: hello, ping, run, readFile/writeFile, the clock,
// concurrency, limits and bad input. The other request kinds have their own
// files, on the same fixture (agent_protocol_fixture.h): agent_path_ops_test,
// agent_file_handle_test, agent_raw_call_test, agent_stream_test (processes
// and streams) and agent_worker_test.
#include "agent_protocol_fixture.h"

#include <capnp/schema.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>
#include <thread>

namespace {

using namespace std::chrono_literals;
using namespace provium::agent_test;
namespace wire = provium::wire::agent;

TEST_F(AgentProtocol, HelloReportsVersionsAndFeatures) {
  auto response = client_->hello();
  ASSERT_TRUE(response->isHelloOk());
  auto hello = response->getHelloOk();
  EXPECT_EQ(hello.getProtocolVersion(), wire::PROTOCOL_VERSION);
  EXPECT_EQ(std::string(hello.getGuestOs().cStr()), "linux");
  EXPECT_FALSE(std::string(hello.getAgentVersion().cStr()).empty());
  bool has_run = false;
  for (auto feature : hello.getFeatures()) has_run |= std::string(feature.cStr()) == "run";
  EXPECT_TRUE(has_run);
}

TEST_F(AgentProtocol, HelloFeaturesNameEveryRequestKind) {
  auto response = client_->hello();
  ASSERT_TRUE(response->isHelloOk());
  std::set<std::string> features;
  for (auto feature : response->getHelloOk().getFeatures()) features.insert(feature.cStr());
  for (auto field : capnp::Schema::from<wire::Request>().getUnionFields()) {
    const std::string name = field.getProto().getName().cStr();
    if (name == "hello") continue;
    EXPECT_TRUE(features.contains(name)) << "helloOk.features lacks `" << name << "`";
  }
}

TEST_F(AgentProtocol, HelloWithAnotherVersionNamesBoth) {
  auto response = client_->hello(wire::PROTOCOL_VERSION + 41);
  ASSERT_TRUE(response->isError());
  EXPECT_EQ(std::string(response->getError().getMessage().cStr()),
            "protocol mismatch: host speaks version " + std::to_string(wire::PROTOCOL_VERSION + 41) +
                ", agent speaks version " + std::to_string(wire::PROTOCOL_VERSION));
  EXPECT_TRUE(client_->ping()->isPong());  // and it keeps serving
}

TEST_F(AgentProtocol, HelloEndsTheEarlierSession) {
  // A host that reconnects says hello again; what it asked before is not its business now.
  client_->send_run({.argv = {"sleep", "0.3"}});
  EXPECT_TRUE(client_->hello()->isHelloOk());
  EXPECT_THROW(client_->next(800ms), std::runtime_error);
  EXPECT_TRUE(client_->ping()->isPong());
}

TEST_F(AgentProtocol, PingEchoesTheId) {
  auto response = client_->ping();
  EXPECT_TRUE(response->isPong());
}

TEST_F(AgentProtocol, RunCapturesOutputAndExitCode) {
  auto response = client_->run({.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"}});
  ASSERT_TRUE(response->isRun());
  EXPECT_EQ(response->getRun().getStatus(), wire::RunStatus::EXITED);
  EXPECT_EQ(response->getRun().getExitCode(), 3);
  EXPECT_EQ(response.stdout_text(), "out\n");
  EXPECT_EQ(response.stderr_text(), "err\n");
}

TEST_F(AgentProtocol, MissingCommandExits127LikeAShell) {
  auto response = client_->run({.argv = {"no-such-command-xyz"}});
  ASSERT_TRUE(response->isRun());
  EXPECT_EQ(response->getRun().getStatus(), wire::RunStatus::EXITED);
  EXPECT_EQ(response->getRun().getExitCode(), 127);
  EXPECT_EQ(response.stderr_text(), "provium-agent: exec `no-such-command-xyz`: No such file or directory\n");
}

TEST_F(AgentProtocol, BadCwdExits127WithMessage) {
  auto response = client_->run({.argv = {"true"}, .cwd = "/no/such/dir"});
  EXPECT_EQ(response->getRun().getExitCode(), 127);
  EXPECT_EQ(response.stderr_text(), "provium-agent: chdir `/no/such/dir`: No such file or directory\n");
}

TEST_F(AgentProtocol, RunFeedsStdinAndHonoursCwd) {
  auto response = client_->run({.argv = {"sh", "-c", "pwd; cat"}, .cwd = "/", .stdin_data = "hello\nworld"});
  EXPECT_EQ(response->getRun().getExitCode(), 0);
  EXPECT_EQ(response.stdout_text(), "/\nhello\nworld");
}

TEST_F(AgentProtocol, LargeStdinIsStreamed) {
  const std::string big(3 << 20, 'x');
  auto response = client_->run({.argv = {"wc", "-c"}, .stdin_data = big});
  EXPECT_EQ(response.stdout_text(), std::to_string(big.size()) + "\n");
}

TEST_F(AgentProtocol, EnvMergesOrReplaces) {
  auto merged = client_->run({.argv = {"sh", "-c", "echo $AGENT_TEST_INHERITED $EXTRA"}, .env = {{"EXTRA", "1"}}});
  EXPECT_EQ(merged.stdout_text(), "yes 1\n");
  auto cleared = client_->run({.argv = {"env"}, .env = {{"ONLY", "this"}}, .env_clear = true});
  EXPECT_EQ(cleared->getRun().getExitCode(), 0);
  EXPECT_EQ(cleared.stdout_text(), "ONLY=this\n");
}

TEST_F(AgentProtocol, SignalledCommandReportsTheSignal) {
  auto response = client_->run({.argv = {"sh", "-c", "kill -TERM $$"}});
  EXPECT_EQ(response->getRun().getStatus(), wire::RunStatus::SIGNALLED);
  EXPECT_EQ(response->getRun().getExitCode(), -1);
  EXPECT_EQ(response->getRun().getSignal(), SIGTERM);
}

TEST_F(AgentProtocol, TimeoutKillsTheWholeProcessGroup) {
  const std::string pid_file = temp_path("bg.pid");
  // TIMED_OUT (not a normal exit 30 s later) shows the run was cut short.
  auto response = client_->run(
      {.argv = {"sh", "-c", "sleep 30 & echo $! > " + pid_file + "; wait"}, .timeout_ms = 200}, 60s);
  EXPECT_EQ(response->getRun().getStatus(), wire::RunStatus::TIMED_OUT);
  EXPECT_EQ(response->getRun().getExitCode(), -2);

  std::ifstream file(pid_file);
  pid_t background = 0;
  ASSERT_TRUE(file >> background);
  EXPECT_TRUE(wait_until_gone(background, 20s)) << "background sleep " << background << " survived";
  std::remove(pid_file.c_str());
}

// The run waits for a gate that only opens after the pong: a serving loop that
// waited for the run could never answer the ping.
TEST_F(AgentProtocol, PingIsAnsweredWhileARunWaits) {
  const std::string gate = scratch("gate");
  const auto waiting = client_->send_run({.argv = {"sh", "-c", "while [ ! -e " + gate + " ]; do sleep 0.02; done"}});
  EXPECT_TRUE(client_->ping()->isPong());
  std::ofstream(gate).put('\n');
  EXPECT_EQ(client_->wait(waiting)->getRun().getExitCode(), 0);
}

// Every run marks that it started, then waits for one gate: run one at a time,
// the second mark would never appear.
TEST_F(AgentProtocol, ManyRunsProceedConcurrently) {
  constexpr int kRuns = 20;
  const std::string gate = scratch("gate");
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < kRuns; ++i) {
    const std::string mark = scratch("started-" + std::to_string(i));
    ids.push_back(client_->send_run({.argv = {"sh", "-c", "touch " + mark + "; while [ ! -e " + gate +
                                                              " ]; do sleep 0.02; done; echo " + std::to_string(i)}}));
  }
  const auto all_started = [&] {
    for (int i = 0; i < kRuns; ++i) {
      if (!std::filesystem::exists(scratch("started-" + std::to_string(i)))) return false;
    }
    return true;
  };
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!all_started() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(all_started()) << "not all " << kRuns << " runs were under way at once";
  std::ofstream(gate).put('\n');
  for (int i = 0; i < kRuns; ++i) {
    auto response = client_->wait(ids[static_cast<std::size_t>(i)]);
    EXPECT_EQ(response.stdout_text(), std::to_string(i) + "\n");
  }
}

TEST_F(AgentProtocol, BackgroundChildHoldingThePipeDoesNotHangTheRun) {
  // The sleep keeps the pipe open for 60 s; the answer must not wait for it.
  const std::string pid_file = scratch("bg.pid");
  const auto started = std::chrono::steady_clock::now();
  auto response = client_->run({.argv = {"sh", "-c", "sleep 60 & echo $! > " + pid_file + "; echo started"}}, 90s);
  EXPECT_EQ(response.stdout_text(), "started\n");
  EXPECT_EQ(response->getRun().getExitCode(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s) << "the run waited for its background child";
  pid_t background = 0;
  if (std::ifstream(pid_file) >> background && background > 0) ::kill(background, SIGKILL);
}

TEST_F(AgentProtocol, OutputIsCappedAndTruncationNoted) {
  auto response = client_->run({.argv = {"head", "-c", "40000000", "/dev/zero"}});
  ASSERT_TRUE(response->isRun());
  EXPECT_EQ(response->getRun().getExitCode(), 0);
  EXPECT_EQ(response->getRun().getStdout().size(), (32u << 20) - 2048);
  EXPECT_NE(response.stderr_text().find("stdout truncated"), std::string::npos) << response.stderr_text();
}

TEST_F(AgentProtocol, WriteThenReadFileRoundTrips) {
  const std::string path = temp_path("file");
  std::string content = "binary\0data\n";
  content.push_back('\0');
  auto written = client_->write_file(path, content, 0600);
  ASSERT_TRUE(written->isDone()) << written->getError().getMessage().cStr();
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  auto read = client_->read_file(path);
  ASSERT_TRUE(read->isData());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(read->getData().begin()), read->getData().size()), content);

  // Overwriting truncates and keeps the mode; mode 0 means 0644 for new files.
  EXPECT_TRUE(client_->write_file(path, "x", 0755)->isDone());
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  EXPECT_EQ(info.st_size, 1);
  std::remove(path.c_str());
  EXPECT_TRUE(client_->write_file(path, "y")->isDone());
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0644u);
  std::remove(path.c_str());
}

TEST_F(AgentProtocol, ReadFileErrorsNameThePathAndErrno) {
  auto response = client_->read_file("/no/such/file");
  ASSERT_TRUE(response->isError());
  EXPECT_EQ(response->getError().getErrno(), ENOENT);
  EXPECT_EQ(std::string(response->getError().getMessage().cStr()), "read `/no/such/file`: No such file or directory");
  auto write = client_->write_file("/no/such/dir/file", "x");
  ASSERT_TRUE(write->isError());
  EXPECT_EQ(std::string(write->getError().getMessage().cStr()), "write `/no/such/dir/file`: No such file or directory");
}

TEST_F(AgentProtocol, ErrorMessagesStaySmallWhateverTheInput) {
  auto response = client_->read_file("/" + std::string(1 << 20, 'a'));
  ASSERT_TRUE(response->isError());
  EXPECT_EQ(response->getError().getErrno(), ENAMETOOLONG);
  EXPECT_LT(response->getError().getMessage().size(), 5000u);
}

TEST_F(AgentProtocol, ReadsProcFilesOfUnknownSize) {
  auto response = client_->read_file("/proc/self/status");
  ASSERT_TRUE(response->isData());
  EXPECT_GT(response->getData().size(), 100u);
}

TEST_F(AgentProtocol, GarbageGetsAnErrorAndTheAgentKeepsServing) {
  // A length that is not a whole number of words: framing is lost.
  const unsigned char ragged[] = {5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'};
  client_->send_raw(ragged, sizeof ragged);
  auto error = client_->next();
  ASSERT_TRUE(error->isError());
  EXPECT_EQ(error->getId(), 0u);
  EXPECT_TRUE(client_->ping()->isPong());

  // Well framed, but not a Cap'n Proto message.
  const unsigned char junk[] = {8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  client_->send_raw(junk, sizeof junk);
  auto malformed = client_->next();
  ASSERT_TRUE(malformed->isError());
  EXPECT_EQ(malformed->getId(), 0u);
  EXPECT_TRUE(client_->ping()->isPong());
}

TEST_F(AgentProtocol, ClockGetReadsBothClocks) {
  timespec before_real{}, before_mono{};
  ::clock_gettime(CLOCK_REALTIME, &before_real);
  ::clock_gettime(CLOCK_MONOTONIC, &before_mono);
  auto response = client_->clock_get();
  ASSERT_TRUE(response->isClock()) << error_text(response);
  auto as_ns = [](const timespec& t) { return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; };
  EXPECT_GE(response->getClock().getRealtimeNs(), as_ns(before_real));
  EXPECT_LT(response->getClock().getRealtimeNs(), as_ns(before_real) + 5'000'000'000);
  EXPECT_GE(response->getClock().getMonotonicNs(), as_ns(before_mono));
}

// Setting the clock for real would move the test machine's clock, so only the
// refusal is tested here; the guest boot test sets it.
TEST_F(AgentProtocol, ClockSetRefusesTimesBeforeTheEpoch) {
  auto response = client_->clock_set(-1'500'000'000);
  ASSERT_TRUE(response->isError());
  EXPECT_EQ(response->getError().getErrno(), EINVAL);
  EXPECT_EQ(error_text(response), "clockSet to -1500000000 ns since the epoch: Invalid argument");
}

TEST_F(AgentProtocol, RequestsForAnUnknownWorkerAreRefused) {
  client_->worker = 7;
  auto response = client_->ping();
  ASSERT_TRUE(response->isError());
  EXPECT_EQ(response->getError().getErrno(), ENOENT);
  EXPECT_EQ(error_text(response), "request for a worker: no worker 7 in this session: No such file or directory");
}

TEST_F(AgentProtocol, PowerOffEndsALocalAgent) {
  EXPECT_TRUE(client_->power_off()->isDone());
  EXPECT_TRUE(client_->at_eof(60s));
  auto status = agent_->wait();
  EXPECT_TRUE(status.exited);
  EXPECT_EQ(status.code, 0);
}

TEST_F(AgentProtocol, ClosingTheChannelEndsALocalAgent) {
  EXPECT_TRUE(client_->ping()->isPong());
  host_end_.reset();
  auto status = agent_->wait();
  EXPECT_TRUE(status.exited);
  EXPECT_EQ(status.code, 0);
}

}  // namespace
