// One bundled guest under QEMU (TCG) for tests that need a real kernel: the
// agent channel is a socketpair, extra devices come as extra arguments with
// the fds they name. Skips (via `available()`) when QEMU or the guest is missing.
#pragma once

#include "agent_test_client.h"
#include "owned_fd.h"
#include "subprocess.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace provium::agent_test {

struct TestGuestOptions {
  std::vector<std::string> extra_args;            // e.g. {"-netdev", "dgram,id=n0,local.type=fd,local.str=4", ...}
  std::vector<std::pair<int, int>> extra_fds;     // {fd in QEMU, fd here}; fds 0-3 are taken
  std::string extra_cmdline;
};

class TestGuest {
 public:
  // Why a guest cannot be booted here, or nullopt if it can.
  static std::optional<std::string> unavailable();

  explicit TestGuest(const std::string& name, const TestGuestOptions& options = {});
  ~TestGuest();

  // Waits for the agent's hello (throws with the console on failure).
  AgentTestClient& client();
  std::string console() const;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::filesystem::path scratch_;
  OwnedFd host_end_;
  std::unique_ptr<Subprocess> qemu_;
  std::optional<AgentTestClient> client_;
  bool greeted_ = false;
};

}  // namespace provium::agent_test
