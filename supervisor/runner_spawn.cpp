#include "runner_spawn.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

namespace provium {

SpawnedRunner spawn_runner(const std::filesystem::path& runner) {
  int sockets[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) {
    throw std::runtime_error(fmt::format("socketpair for the runner: {}", std::strerror(errno)));
  }
  kj::AutoCloseFd ours(sockets[0]);
  kj::AutoCloseFd theirs(sockets[1]);
  int log_pipe[2];
  if (::pipe2(log_pipe, O_CLOEXEC) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
  kj::AutoCloseFd log_read(log_pipe[0]);
  kj::AutoCloseFd log_write(log_pipe[1]);
  kj::AutoCloseFd dev_null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (dev_null.get() < 0) throw std::runtime_error(fmt::format("/dev/null: {}", std::strerror(errno)));

  SpawnSpec spec;
  spec.argv = {runner.string(), fmt::format("--ipc-fd={}", kRunnerIpcFd)};
  spec.env = {};  // nothing from our environment reaches the sandbox
  spec.fds = {{0, dev_null.get()}, {1, log_write.get()}, {2, log_write.get()}, {kRunnerIpcFd, theirs.get()}};
  return SpawnedRunner{Subprocess::spawn(spec), kj::mv(ours), kj::mv(log_read)};
}

}  // namespace provium
