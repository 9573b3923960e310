// A command to run in the guest and what came of it, independent of the wire
// encoding (agent_client.cpp maps these to ipc/agent.capnp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <duration.h>

namespace provium::runner {

struct GuestCommand {
  std::vector<std::string> argv;                              // argv[0] looked up on PATH
  std::vector<std::pair<std::string, std::string>> env;
  bool env_clear = false;
  std::string cwd;                                            // empty: the agent's cwd
  std::string stdin_data;
  std::optional<Millis> timeout;                              // enforced by the agent
  // How to show the command in messages: the shell text or the argv.
  std::string display;
};

enum class CommandStatus { exited, signalled, timed_out };

struct CommandResult {
  CommandStatus status = CommandStatus::exited;
  std::int32_t exit_code = 0;   // -1 signalled, -2 timed out
  std::int32_t signal = 0;
  std::string stdout_data;
  std::string stderr_data;
};

}  // namespace provium::runner
