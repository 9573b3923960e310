#include "process_spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <optional>
#include <system_error>

namespace provium::agent {
namespace {

struct Pipe {
  UniqueFd read_end;
  UniqueFd write_end;
};

Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Makes `fd` the child's descriptor `target`, leaving it open across exec.
void install_stdio(int fd, int target) {
  if (fd == target) {
    ::fcntl(fd, F_SETFD, 0);  // dup2 would be a no-op and keep FD_CLOEXEC
  } else {
    ::dup2(fd, target);
  }
}

[[noreturn]] void fail_in_child(const char* action, const std::string& subject, int error_number,
                                int exit_status) {
  // Same shape as a shell's complaint, so test output reads naturally.
  std::string message = "provium-agent: ";
  message += action;
  message += " `" + subject + "`: " + std::strerror(error_number) + "\n";
  [[maybe_unused]] ssize_t ignored = ::write(STDERR_FILENO, message.data(), message.size());
  ::_exit(exit_status);
}

// Runs in the forked child. The agent is single-threaded, so allocating here is safe.
[[noreturn]] void become_command(const SpawnRequest& request, char* const* argv, char** envp,
                                 int stdin_fd, int stdout_fd, int stderr_fd) {
  ::setpgid(0, 0);
  // The agent blocks SIGCHLD (for its signalfd) and ignores SIGPIPE; both
  // survive exec, and commands expect neither.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);

  install_stdio(stdin_fd, STDIN_FILENO);
  install_stdio(stdout_fd, STDOUT_FILENO);
  install_stdio(stderr_fd, STDERR_FILENO);

  if (!request.cwd.empty() && ::chdir(request.cwd.c_str()) != 0) {
    fail_in_child("chdir", request.cwd, errno, 127);
  }
  // execvp searches the PATH of `environ`, so set the run's environment first:
  // a PATH given in the request is the one used for the lookup, as with env(1).
  environ = envp;
  ::execvp(argv[0], argv);
  const int error_number = errno;
  fail_in_child("exec", request.argv[0], error_number, error_number == ENOENT ? 127 : 126);
}

// argv[0] looked up on the PATH of the run's own environment, as execvp
// would in the child; nullopt when it is not an executable file there.
std::optional<std::string> find_executable(const std::string& name, const std::vector<std::string>& environment) {
  auto executable = [](const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && ::access(path.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos) return executable(name) ? std::optional(name) : std::nullopt;
  std::string path = "/bin:/usr/bin";  // execvp's default when PATH is unset
  for (const std::string& entry : environment) {
    if (entry.starts_with("PATH=")) path = entry.substr(5);
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find(':', start), path.size());
    const std::string directory = end == start ? "." : path.substr(start, end - start);
    const std::string candidate = directory + "/" + name;
    if (executable(candidate)) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

// The fast way: posix_spawn, which starts the child without copying the
// agent's page tables (clone with CLONE_VM|CLONE_VFORK in glibc). Under TCG a
// fork of the agent costs milliseconds. Returns nullopt whenever anything is
// unusual (not found, bad cwd, exec failure), so the fork path can run and
// report it the way a shell does.
std::optional<pid_t> spawn_without_fork(const SpawnRequest& request, char* const* argv, char* const* envp,
                                        int stdin_fd, int stdout_fd, int stderr_fd) {
  const auto path = find_executable(request.argv[0], request.environment);
  if (!path) return std::nullopt;

  struct Actions {
    posix_spawn_file_actions_t value;
    Actions() { posix_spawn_file_actions_init(&value); }
    ~Actions() { posix_spawn_file_actions_destroy(&value); }
  } actions;
  struct Attributes {
    posix_spawnattr_t value;
    Attributes() { posix_spawnattr_init(&value); }
    ~Attributes() { posix_spawnattr_destroy(&value); }
  } attributes;

  // dup2 onto the same number clears FD_CLOEXEC (glibc >= 2.29), like install_stdio.
  posix_spawn_file_actions_adddup2(&actions.value, stdin_fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions.value, stdout_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions.value, stderr_fd, STDERR_FILENO);
  if (!request.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions.value, request.cwd.c_str());

  // Its own process group; no blocked signals; SIGPIPE back to default.
  sigset_t none;
  sigemptyset(&none);
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  posix_spawnattr_setflags(&attributes.value, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attributes.value, 0);
  posix_spawnattr_setsigmask(&attributes.value, &none);
  posix_spawnattr_setsigdefault(&attributes.value, &pipe_only);

  pid_t pid = -1;
  if (::posix_spawn(&pid, path->c_str(), &actions.value, &attributes.value, argv, envp) != 0) return std::nullopt;
  return pid;
}

}  // namespace

std::vector<std::string> merge_environment(const char* const* inherited, bool clear,
                                           const std::vector<std::string>& overrides) {
  std::vector<std::string> result;
  if (!clear && inherited != nullptr) {
    for (const char* const* entry = inherited; *entry != nullptr; ++entry) result.emplace_back(*entry);
  }
  for (const std::string& assignment : overrides) {
    const std::string name = assignment.substr(0, assignment.find('=') + 1);  // includes '='
    std::erase_if(result, [&](const std::string& existing) { return existing.starts_with(name); });
    result.push_back(assignment);
  }
  return result;
}

SpawnedProcess spawn_process(const SpawnRequest& request) {
  if (request.argv.empty()) throw std::system_error(EINVAL, std::generic_category(), "run: empty argv");

  // Build every C array before fork so the child only has to exec.
  std::vector<char*> argv;
  for (const std::string& arg : request.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& entry : request.environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  Pipe in = make_pipe();
  Pipe out = make_pipe();
  Pipe err = make_pipe();

  pid_t pid = spawn_without_fork(request, argv.data(), envp.data(), in.read_end.get(), out.write_end.get(),
                                  err.write_end.get())
                  .value_or(-1);
  if (pid < 0) {
    pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
      become_command(request, argv.data(), envp.data(), in.read_end.get(), out.write_end.get(),
                     err.write_end.get());
    }
  }
  // Also set the group from this side: a timeout may fire before the child
  // gets to run, and kill(-pid) must already reach it. EACCES (the child
  // already exec'd) means it did it itself.
  ::setpgid(pid, pid);

  set_nonblocking(in.write_end.get());
  set_nonblocking(out.read_end.get());
  set_nonblocking(err.read_end.get());
  SpawnedProcess spawned;
  spawned.pid = pid;
  spawned.stdin_write = std::move(in.write_end);
  spawned.stdout_read = std::move(out.read_end);
  spawned.stderr_read = std::move(err.read_end);
  return spawned;  // the child's pipe ends close here, so EOF means the command side closed
}

}  // namespace provium::agent
