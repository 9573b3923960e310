// Starts `provium-runner --ipc-fd=3` for one file: an empty environment, stdin
// from /dev/null, stdout and stderr into a pipe we drain (its log), and fd 3
// one end of the socketpair the Session is served on.
#pragma once

#include <filesystem>

#include <kj/io.h>

#include "subprocess.h"

namespace provium {

inline constexpr int kRunnerIpcFd = 3;

struct SpawnedRunner {
  Subprocess process;
  kj::AutoCloseFd rpc;  // our end of the socketpair
  kj::AutoCloseFd log;  // read end of the runner's stdout+stderr
};

// Throws std::runtime_error naming the binary and the reason.
SpawnedRunner spawn_runner(const std::filesystem::path& runner);

}  // namespace provium
