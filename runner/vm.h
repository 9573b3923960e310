// One guest as test code sees it: a small state machine over the
// supervisor's VM handle and, once booted, the agent connection.
#pragma once

#include "agent_client.h"
#include "guest_command.h"
#include "supervisor_link.h"
#include "test_clock.h"
#include "vm_spec.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace provium::runner {

enum class VmState { created, booted, shutdown, dead };
const char* to_string(VmState state);

// How long a freshly booted guest gets to say hello (capped by the test's
// own deadline).
inline constexpr std::chrono::seconds kAgentHelloTimeout{120};
// How much console output accompanies a boot failure or a dead guest.
inline constexpr std::uint32_t kConsoleExcerptBytes = 2048;

class Vm {
 public:
  Vm(std::string name, std::string profile, VmSpec creation_spec, std::unique_ptr<VmBackend> backend,
     TestClock& clock);

  // All of these throw std::runtime_error whose text starts "vm `<name>`:",
  // or TestTimedOut when the test's deadline passes while they wait.
  void boot(const VmSpec& overrides);
  CommandResult run(const GuestCommand& command);
  std::string read_file(const std::string& path);
  void write_file(const std::string& path, std::string_view data);
  void shutdown();
  // Like shutdown() but never throws: the error text, if any.
  std::optional<std::string> close() noexcept;

  const std::string& name() const { return name_; }
  const std::string& profile() const { return profile_; }
  VmState state() const { return state_; }
  std::optional<std::uint32_t> cid() const;

 private:
  template <typename Call>
  auto agent_call(const std::string& op, Call&& call);
  void require_booted(const std::string& op) const;
  std::string prefix(const std::string& op) const;
  std::string boot_failure(const std::string& reason);
  void mark_dead();
  // "\n--- last console output of vm `a` ---\n..." or empty.
  std::string console_excerpt();

  std::string name_;
  std::string profile_;
  VmSpec creation_spec_;
  std::unique_ptr<VmBackend> backend_;
  TestClock& clock_;
  VmState state_ = VmState::created;
  std::unique_ptr<AgentClient> agent_;
  std::optional<VmInfo> info_;
};

}  // namespace provium::runner
