#include "subprocess.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

namespace provium {
namespace {

int pidfd_open_syscall(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

ExitStatus decode_wait_status(int status) {
  ExitStatus out;
  if (WIFEXITED(status)) {
    out.exited = true;
    out.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    out.signal = WTERMSIG(status);
  }
  return out;
}

// In the child: report `what` and errno through the error pipe, then die.
[[noreturn]] void child_fail(int error_pipe, const char* what, int error) {
  char buffer[512];
  int length = 0;
  const char* reason = strerror(error);
  for (const char* p = what; *p && length < 300; ++p) buffer[length++] = *p;
  if (error != 0) {
    buffer[length++] = ':';
    buffer[length++] = ' ';
    for (const char* p = reason; *p && length < 500; ++p) buffer[length++] = *p;
  }
  ssize_t ignored = ::write(error_pipe, buffer, static_cast<size_t>(length));
  (void)ignored;
  _exit(127);
}

}  // namespace

std::string ExitStatus::describe() const {
  if (exited) return fmt::format("exit code {}", code);
  const char* name = sigabbrev_np(signal);
  return name ? fmt::format("killed by SIG{}", name) : fmt::format("killed by signal {}", signal);
}

Subprocess Subprocess::spawn(const SpawnSpec& spec) {
  if (spec.argv.empty()) throw std::runtime_error("spawn: empty argv");
  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error(fmt::format("spawn {}: pipe: {}", spec.argv[0], strerror(errno)));
  }
  kj::AutoCloseFd error_read(error_pipe[0]);
  kj::AutoCloseFd error_write(error_pipe[1]);

  // Everything the child needs is built before fork: no allocation after it.
  std::vector<char*> argv;
  for (const auto& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& entry : spec.env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(fmt::format("spawn {}: fork: {}", spec.argv[0], strerror(errno)));
  if (pid == 0) {
    const int err_fd = error_write.get();
    if (spec.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) _exit(127);
    }
    if (spec.new_process_group) ::setpgid(0, 0);
    // Move every source fd above all targets first, so a map like {3<-4, 4<-3}
    // cannot clobber a source before it is used.
    int high = 64;
    for (const auto& mapping : spec.fds) high = std::max({high, mapping.first + 1, mapping.second + 1});
    std::vector<std::pair<int, int>>::size_type index = 0;
    int staged[64];
    for (const auto& mapping : spec.fds) {
      if (index >= 64) child_fail(err_fd, "spawn: too many fds", 0);
      staged[index] = ::fcntl(mapping.second, F_DUPFD_CLOEXEC, high);
      if (staged[index] < 0) child_fail(err_fd, "spawn: dup", errno);
      ++index;
    }
    const int err_high = ::fcntl(err_fd, F_DUPFD_CLOEXEC, high + 64);
    if (err_high < 0) child_fail(err_fd, "spawn: dup", errno);
    index = 0;
    for (const auto& mapping : spec.fds) {
      if (::dup2(staged[index], mapping.first) < 0) child_fail(err_high, "spawn: dup2", errno);
      ++index;
    }
    // Close everything that is not a mapped target or the error pipe.
    for (int fd = 0; fd < high + 128; ++fd) {
      bool keep = fd == err_high;
      for (const auto& mapping : spec.fds) keep = keep || mapping.first == fd;
      if (!keep) ::close(fd);
    }
    ::syscall(SYS_close_range, high + 129, ~0U, 0);
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    for (int signo = 1; signo < NSIG; ++signo) ::signal(signo, SIG_DFL);
    if (spec.before_exec) {
      if (const char* failure = spec.before_exec()) child_fail(err_high, failure, errno);
    }
    ::execve(argv[0], argv.data(), envp.data());
    child_fail(err_high, "exec", errno);
  }

  error_write = nullptr;
  char buffer[512];
  ssize_t length;
  do {
    length = ::read(error_read.get(), buffer, sizeof buffer);
  } while (length < 0 && errno == EINTR);
  if (length > 0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    throw std::runtime_error(fmt::format("spawn {}: {}", spec.argv[0], std::string(buffer, static_cast<size_t>(length))));
  }
  const int pidfd = pidfd_open_syscall(pid);
  if (pidfd < 0) {
    const int saved = errno;
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    throw std::runtime_error(fmt::format("spawn {}: pidfd_open: {}", spec.argv[0], strerror(saved)));
  }
  return Subprocess(pid, kj::AutoCloseFd(pidfd), spec.new_process_group);
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), pidfd_(kj::mv(other.pidfd_)), group_(other.group_),
      status_(std::move(other.status_)) {}

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    if (running()) kill_and_wait();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = kj::mv(other.pidfd_);
    group_ = other.group_;
    status_ = std::move(other.status_);
  }
  return *this;
}

Subprocess::~Subprocess() {
  if (running()) kill_and_wait();
}

std::optional<ExitStatus> Subprocess::poll() {
  if (status_ || pid_ <= 0) return status_;
  int status = 0;
  pid_t result;
  do {
    result = ::waitpid(pid_, &status, WNOHANG);
  } while (result < 0 && errno == EINTR);
  if (result == pid_) status_ = decode_wait_status(status);
  return status_;
}

ExitStatus Subprocess::wait() {
  if (status_) return *status_;
  int status = 0;
  pid_t result;
  do {
    result = ::waitpid(pid_, &status, 0);
  } while (result < 0 && errno == EINTR);
  status_ = result == pid_ ? decode_wait_status(status) : ExitStatus{};
  return *status_;
}

void Subprocess::signal(int signo) {
  if (!running()) return;
  // pidfd_send_signal cannot hit a recycled pid; the group kill is for the
  // children a process left behind (QEMU helpers, a runner's strays).
  ::syscall(SYS_pidfd_send_signal, pidfd_.get(), signo, nullptr, 0);
  if (group_) ::kill(-pid_, signo);
}

ExitStatus Subprocess::kill_and_wait() {
  signal(SIGKILL);
  return wait();
}

std::optional<std::string> find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return name;
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace provium
