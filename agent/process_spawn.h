// Starting one command for a `run` request: start the child (posix_spawn, or
// fork when something needs a shell-style error report), put it in its own
// process group (so a timeout can kill everything it started), connect its
// stdio to pipes, and exec with execvp semantics (PATH lookup on the run's
// own PATH).
#pragma once

#include "unique_fd.h"

#include <sys/types.h>

#include <string>
#include <vector>

namespace provium::agent {

struct SpawnRequest {
  std::vector<std::string> argv;         // argv[0] is looked up on the child's PATH
  std::vector<std::string> environment;  // complete, as "NAME=value"
  std::string cwd;                       // empty: inherit the agent's
};

struct SpawnedProcess {
  pid_t pid = -1;              // also the process group id
  UniqueFd stdin_write;        // blocking in the child, non-blocking here
  UniqueFd stdout_read;        // non-blocking
  UniqueFd stderr_read;        // non-blocking
};

// Throws std::system_error if pipes or fork fail. Failures after fork (bad cwd,
// exec failure) are reported the way a shell does: a message on the child's
// stderr and exit status 127 (not found) or 126 (found but not executable).
SpawnedProcess spawn_process(const SpawnRequest& request);

// The environment a run sees: the agent's own (unless `clear`), with
// `overrides` ("NAME=value") replacing or adding entries.
std::vector<std::string> merge_environment(const char* const* inherited, bool clear,
                                           const std::vector<std::string>& overrides);

}  // namespace provium::agent
