// Drives the real provium-agent binary over a socketpair (--connect-fd), the
// way --vmm local does: every request kind, concurrency, limits and bad input.
#include "agent_test_client.h"
#include "subprocess.h"
#include "unique_fd.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace {

using namespace std::chrono_literals;
using provium::agent_test::AgentTestClient;
using provium::agent_test::RunSpec;
namespace wire = provium::wire::agent;

std::string agent_binary() {
  const char* path = std::getenv("PROVIUM_AGENT_BINARY");
  return path != nullptr ? path : "agent/provium-agent";
}

class AgentProtocol : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    host_end_ = provium::agent::UniqueFd(fds[0]);
    provium::agent::UniqueFd agent_end(fds[1]);
    provium::SpawnSpec spec;
    spec.argv = {agent_binary(), "--connect-fd", "3"};
    spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "AGENT_TEST_INHERITED=yes"};
    spec.fds = {{3, agent_end.get()}, {2, STDERR_FILENO}};
    agent_ = std::make_unique<provium::Subprocess>(provium::Subprocess::spawn(spec));
    client_.emplace(host_end_.get());
  }

  void TearDown() override {
    if (agent_ && agent_->running()) agent_->kill_and_wait();
  }

  std::string temp_path(const std::string& name) {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir != nullptr ? dir : "/tmp") + "/provium-agent-test-" + std::to_string(::getpid()) + "-" +
           name;
  }

  provium::agent::UniqueFd host_end_;
  // Behind a pointer: Subprocess holds kj fds, whose destructors may throw.
  std::unique_ptr<provium::Subprocess> agent_;
  std::optional<AgentTestClient> client_;
};

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

bool process_gone_or_zombie(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close_paren = content.rfind(')');
  return close_paren == std::string::npos || content.substr(close_paren + 2, 1) == "Z";
}

TEST_F(AgentProtocol, TimeoutKillsTheWholeProcessGroup) {
  const std::string pid_file = temp_path("bg.pid");
  const auto started = std::chrono::steady_clock::now();
  auto response = client_->run(
      {.argv = {"sh", "-c", "sleep 30 & echo $! > " + pid_file + "; wait"}, .timeout_ms = 200});
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(response->getRun().getStatus(), wire::RunStatus::TIMED_OUT);
  EXPECT_EQ(response->getRun().getExitCode(), -2);
  EXPECT_LT(elapsed, 5s);

  std::ifstream file(pid_file);
  pid_t background = 0;
  ASSERT_TRUE(file >> background);
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (!process_gone_or_zombie(background) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(process_gone_or_zombie(background)) << "background sleep " << background << " survived";
  std::remove(pid_file.c_str());
}

TEST_F(AgentProtocol, PingIsAnsweredWhileARunSleeps) {
  const auto slow = client_->send_run({.argv = {"sleep", "2"}});
  const auto started = std::chrono::steady_clock::now();
  auto pong = client_->ping();
  EXPECT_TRUE(pong->isPong());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  auto run = client_->wait(slow);
  EXPECT_EQ(run->getRun().getExitCode(), 0);
}

TEST_F(AgentProtocol, ManyRunsProceedConcurrently) {
  std::vector<std::uint64_t> ids;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    ids.push_back(client_->send_run({.argv = {"sh", "-c", "sleep 0.5; echo " + std::to_string(i)}}));
  }
  for (int i = 0; i < 20; ++i) {
    auto response = client_->wait(ids[static_cast<std::size_t>(i)]);
    EXPECT_EQ(response.stdout_text(), std::to_string(i) + "\n");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST_F(AgentProtocol, BackgroundChildHoldingThePipeDoesNotHangTheRun) {
  const auto started = std::chrono::steady_clock::now();
  auto response = client_->run({.argv = {"sh", "-c", "sleep 3 & echo started"}});
  EXPECT_EQ(response.stdout_text(), "started\n");
  EXPECT_EQ(response->getRun().getExitCode(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
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

TEST_F(AgentProtocol, PowerOffEndsALocalAgent) {
  EXPECT_TRUE(client_->power_off()->isDone());
  EXPECT_TRUE(client_->at_eof(5s));
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
