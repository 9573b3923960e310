// A child process owned by the parent: spawned with an explicit fd map, an
// explicit environment and an optional hook run in the child before exec
// (dropping privileges, seccomp, ...). Destroying a Subprocess that is still
// running kills its whole process group and reaps it, so no child outlives
// the object that started it.
#pragma once

#include <kj/io.h>

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace provium {

struct SpawnSpec {
  std::vector<std::string> argv;            // argv[0] is an absolute path
  std::vector<std::string> env;             // "K=V" entries; nothing is inherited
  std::vector<std::pair<int, int>> fds;     // {fd in child, fd in parent}; all others closed
  bool new_process_group = true;
  bool die_with_parent = true;              // PR_SET_PDEATHSIG: SIGKILL if we die
  // Runs in the child after the fd map is in place and before exec. It must
  // only make async-signal-safe calls; it returns an error text (or nullptr)
  // that is reported as the child's exec failure.
  std::function<const char*()> before_exec;
};

struct ExitStatus {
  bool exited = false;   // normal exit: code is valid
  int code = 0;
  int signal = 0;        // killed by this signal when !exited
  std::string describe() const;  // "exit code 3", "killed by SIGSEGV"
};

class Subprocess {
 public:
  // Forks and execs. Throws std::runtime_error with the program name and the
  // reason if the child could not be started (exec failure is reported back
  // through a close-on-exec pipe, not as a mysterious exit code).
  static Subprocess spawn(const SpawnSpec& spec);

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  // A pidfd that becomes readable when the child exits (for event loops).
  int pidfd() const { return pidfd_.get(); }
  bool running() const { return !status_.has_value() && pid_ > 0; }

  // Non-blocking: the exit status if the child has exited (reaps it).
  std::optional<ExitStatus> poll();
  ExitStatus wait();
  void signal(int signo);
  // SIGKILL to the process group (or the process), then reap.
  ExitStatus kill_and_wait();

 private:
  Subprocess(pid_t pid, kj::AutoCloseFd pidfd, bool group) : pid_(pid), pidfd_(kj::mv(pidfd)), group_(group) {}
  pid_t pid_ = -1;
  kj::AutoCloseFd pidfd_;
  bool group_ = true;
  std::optional<ExitStatus> status_;
};

// Resolve `name` on PATH (or return it unchanged when it contains a slash).
std::optional<std::string> find_program(const std::string& name);

}  // namespace provium
