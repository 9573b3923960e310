// provium-runner --ipc-fd=N
//
// Runs one *.test.lua file for the supervisor. Started with an empty
// environment, stdin on /dev/null and stdout/stderr on the supervisor's log
// pipe; fd N is a Unix stream socket carrying Cap'n Proto RPC
// (ipc/runner.capnp), with the supervisor serving Session as bootstrap.
//
// Exit status: 0 after Session.finish, 1 when the supervisor connection
// fails, 2 on bad arguments, 3 when the sandbox cannot be applied.

#include "file_runner.h"
#include "lua_state.h"
#include "rpc_session.h"
#include "sandbox/sandbox.h"
#include "stdio_write.h"

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <signal.h>
#include <time.h>

#include <charconv>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#if defined(__SANITIZE_ADDRESS__)
// In ASan builds (the test suite has one) the sandbox still applies, so the
// sanitizer must not need what it forbids: LeakSanitizer's exit-time scan
// stops the world with clone() and ptrace(), and ASan's own crash handlers
// read /proc to symbolize. Crashes then look as they do in production.
extern "C" const char* __asan_default_options() {
  return "detect_leaks=0:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_abort=0";
}
#endif

namespace {

using namespace provium::runner;

constexpr int kExitOk = 0;
constexpr int kExitConnection = 1;
constexpr int kExitUsage = 2;
constexpr int kExitSandbox = 3;

// The supervisor may pass an fd for the agent channel in the same message.
constexpr unsigned kMaxFdsPerMessage = 2;

std::optional<int> parse_ipc_fd(int argc, char** argv) {
  if (argc != 2) return std::nullopt;
  constexpr std::string_view kFlag = "--ipc-fd=";
  const std::string_view arg = argv[1];
  if (!arg.starts_with(kFlag)) return std::nullopt;
  const std::string_view digits = arg.substr(kFlag.size());
  int fd = -1;
  const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), fd);
  if (result.ec != std::errc() || result.ptr != digits.data() + digits.size() || fd < 0) return std::nullopt;
  return fd;
}

// The supervisor hands us one end of socketpair(AF_UNIX, SOCK_STREAM).
std::optional<std::string> check_ipc_socket(int fd) {
  if (fcntl(fd, F_GETFD) < 0) return std::string("not an open file descriptor (") + std::strerror(errno) + ")";
  int domain = 0;
  int type = 0;
  socklen_t size = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &size) != 0) {
    return std::string("not a socket (") + std::strerror(errno) + ")";
  }
  size = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) != 0 || domain != AF_UNIX || type != SOCK_STREAM) {
    return std::string("not a Unix stream socket");
  }
  return std::nullopt;
}

// Things that would need a syscall the sandbox forbids if done lazily later.
void prepare_for_sandbox() {
  // os.date's localtime() reads the zone file on first use.
  tzset();
  // A closed log pipe or agent socket must be an error, not a kill.
  signal(SIGPIPE, SIG_IGN);
  // RLIMIT_FSIZE is 0: if stdout/stderr is a regular file (a developer
  // redirecting by hand) writes fail with EFBIG instead of killing us.
  signal(SIGXFSZ, SIG_IGN);
  struct stat info {};
  if (fstat(2, &info) == 0 && S_ISREG(info.st_mode)) {
    log_to_stderr("note: stderr is a regular file; the sandbox's RLIMIT_FSIZE=0 will drop further output "
                  "(give the runner a pipe)");
  }
}

// kj would set these flags with ioctl(), which the sandbox does not allow.
void make_nonblocking_cloexec(int fd) {
  const int status_flags = fcntl(fd, F_GETFL);
  const int fd_flags = fcntl(fd, F_GETFD);
  if (status_flags < 0 || fd_flags < 0 || fcntl(fd, F_SETFL, status_flags | O_NONBLOCK) < 0 ||
      fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC) < 0) {
    throw std::runtime_error(std::string("--ipc-fd: cannot set O_NONBLOCK/FD_CLOEXEC: ") + std::strerror(errno));
  }
}

int serve(int ipc_fd) {
  auto io = kj::setupAsyncIo();
  make_nonblocking_cloexec(ipc_fd);
  using Provider = kj::LowLevelAsyncIoProvider;
  auto stream = io.lowLevelProvider->wrapUnixSocketFd(
      ipc_fd, Provider::TAKE_OWNERSHIP | Provider::ALREADY_NONBLOCK | Provider::ALREADY_CLOEXEC);
  capnp::TwoPartyClient client(*stream, kMaxFdsPerMessage);
  RpcSession session(client.bootstrap().castAs<provium::wire::runner::Session>(), io.waitScope,
                     io.provider->getTimer());
  const FileJob job = session.hello();
  const FileOutcome outcome = run_test_file(job, session, FileRunnerOptions{kDefaultLuaMemoryCap});
  session.finish(outcome);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<int> ipc_fd = parse_ipc_fd(argc, argv);
  if (!ipc_fd) {
    log_to_stderr("usage: provium-runner --ipc-fd=N (started by the provium supervisor)");
    return kExitUsage;
  }
  if (auto problem = check_ipc_socket(*ipc_fd)) {
    log_to_stderr("--ipc-fd=" + std::to_string(*ipc_fd) + ": " + *problem);
    return kExitUsage;
  }

  prepare_for_sandbox();
  try {
    const auto report = provium::runner::sandbox::apply_runner_sandbox();
    for (const auto& note : report.notes) log_to_stderr(note);
  } catch (const std::exception& error) {
    log_to_stderr(error.what());
    return kExitSandbox;
  }

  try {
    return serve(*ipc_fd);
  } catch (const kj::Exception& error) {
    log_to_stderr("supervisor connection failed: " + std::string(error.getDescription().cStr()));
  } catch (const std::exception& error) {
    log_to_stderr(error.what());
  }
  return kExitConnection;
}
