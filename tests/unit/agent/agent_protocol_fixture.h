// The fixture of the protocol tests: the real provium-agent binary, started
// with --connect-fd on one end of a socketpair (as --vmm local does), and a
// test client on the other end. Each test also gets a scratch directory.
#pragma once

#include "agent_test_client.h"
#include "subprocess.h"
#include "unique_fd.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

namespace provium::agent_test {

inline std::string agent_binary() {
  const char* path = std::getenv("PROVIUM_AGENT_BINARY");
  return path != nullptr ? path : "agent/provium-agent";
}

inline std::string data_text(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

inline std::string error_text(const Response& response) {
  return response->isError() ? std::string(response->getError().getMessage().cStr()) : "(not an error)";
}

inline void write_host_file(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

inline std::string read_host_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

// Gone, or dead and waiting to be reaped.
inline bool process_gone_or_zombie(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close_paren = content.rfind(')');
  return close_paren == std::string::npos || content.substr(close_paren + 2, 1) == "Z";
}

inline bool wait_until_gone(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!process_gone_or_zombie(pid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

class AgentProtocol : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    host_end_ = provium::agent::UniqueFd(fds[0]);
    provium::agent::UniqueFd agent_end(fds[1]);
    provium::SpawnSpec spec;
    // A closed worker that had to be killed takes a minute, one that exited by
    // itself a moment: tests tell the two apart without timing anything tight.
    spec.argv = {agent_binary(), "--connect-fd", "3", "--retirement-grace-ms", "60000"};
    spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "AGENT_TEST_INHERITED=yes"};
    spec.fds = {{3, agent_end.get()}, {2, STDERR_FILENO}};
    customize(spec);
    agent_ = std::make_unique<provium::Subprocess>(provium::Subprocess::spawn(spec));
    client_.emplace(host_end_.get());
  }

  // Lets a derived fixture add arguments or a before_exec step.
  virtual void customize(provium::SpawnSpec&) {}

  void TearDown() override {
    if (agent_ && agent_->running()) agent_->kill_and_wait();
    if (!scratch_.empty()) std::filesystem::remove_all(scratch_);
  }

  std::string temp_path(const std::string& name) {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir != nullptr ? dir : "/tmp") + "/provium-agent-test-" + std::to_string(::getpid()) + "-" +
           name;
  }

  // A fresh directory for this test, removed afterwards.
  std::string scratch(const std::string& name = "") {
    if (scratch_.empty()) {
      std::string pattern = temp_path("XXXXXX");
      scratch_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
    }
    return name.empty() ? scratch_ : scratch_ + "/" + name;
  }

  provium::agent::UniqueFd host_end_;
  // Behind a pointer: Subprocess holds kj fds, whose destructors may throw.
  std::unique_ptr<provium::Subprocess> agent_;
  std::optional<AgentTestClient> client_;
  std::string scratch_;
};

}  // namespace provium::agent_test
