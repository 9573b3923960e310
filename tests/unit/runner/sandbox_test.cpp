// The real runner sandbox, applied in a forked child: forbidden syscalls kill
// the child with SIGSYS, allowed ones work, nothing is left of the
// capabilities. Needs root (as the runner is started by a root supervisor).
#include <sandbox/resource_limits.h>
#include <sandbox/sandbox.h>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <functional>
#include <string>

namespace provium::runner::sandbox {
namespace {

constexpr int kSandboxFailed = 100;
constexpr int kSurvived = 101;

// Forks; the child applies the sandbox, runs `attempt` and exits with its
// return value. Returns the child's wait status.
int run_sandboxed(const std::function<int()>& attempt) {
  const pid_t pid = fork();
  if (pid == 0) {
    try {
      apply_runner_sandbox();
    } catch (...) {
      _exit(kSandboxFailed);
    }
    _exit(attempt());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

::testing::AssertionResult killed_by_sigsys(int status) {
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) return ::testing::AssertionSuccess();
  if (WIFEXITED(status)) {
    return ::testing::AssertionFailure() << "child exited with " << WEXITSTATUS(status)
                                         << (WEXITSTATUS(status) == kSandboxFailed ? " (sandbox failed to apply)" : "");
  }
  return ::testing::AssertionFailure() << "child killed by signal " << WTERMSIG(status);
}

TEST(Sandbox, AppliesAsRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "the sandbox drops capabilities only a privileged parent holds";
  const int status = run_sandboxed([] { return 0; });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(Sandbox, ExecveIsKilled) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  EXPECT_TRUE(killed_by_sigsys(run_sandboxed([] {
    const char* argv[] = {"/bin/true", nullptr};
    const char* envp[] = {nullptr};
    syscall(SYS_execve, "/bin/true", argv, envp);
    return kSurvived;
  })));
}

TEST(Sandbox, OpeningAHostFileIsKilled) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  EXPECT_TRUE(killed_by_sigsys(run_sandboxed([] {
    syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
    return kSurvived;
  })));
  EXPECT_TRUE(killed_by_sigsys(run_sandboxed([] {
    syscall(SYS_open, "/etc/hostname", O_RDONLY);
    return kSurvived;
  })));
}

TEST(Sandbox, NewSocketsAreKilled) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  EXPECT_TRUE(killed_by_sigsys(run_sandboxed([] {
    syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    return kSurvived;
  })));
}

TEST(Sandbox, ForkAndPtraceAreKilled) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  EXPECT_TRUE(killed_by_sigsys(run_sandboxed([] {
    syscall(SYS_fork);
    return kSurvived;
  })));
  EXPECT_TRUE(killed_by_sigsys(run_sandboxed([] {
    syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
    return kSurvived;
  })));
}

TEST(Sandbox, ExecutableMemoryIsKilled) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  EXPECT_TRUE(killed_by_sigsys(run_sandboxed([] {
    syscall(SYS_mmap, nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return kSurvived;
  })));
}

TEST(Sandbox, AllowedOperationsStillWork) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const int status = run_sandboxed([&] {
    const char message[] = "still alive";
    if (write(fds[1], message, sizeof message - 1) != sizeof message - 1) return 1;
    // Anonymous memory, time and a pollable fd: what the runner lives on.
    void* memory = mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return 2;
    std::memset(memory, 1, 1 << 20);
    timespec now{};
    if (clock_gettime(CLOCK_MONOTONIC, &now) != 0) return 3;
    return 0;
  });
  close(fds[1]);
  char buffer[32] = {};
  const ssize_t got = read(fds[0], buffer, sizeof buffer);
  close(fds[0]);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(std::string(buffer, got > 0 ? static_cast<std::size_t>(got) : 0), "still alive");
}

TEST(Sandbox, ResourceLimitsStickAsHardLimits) {
  const pid_t pid = fork();
  if (pid == 0) {
    try {
      apply_resource_limits(runner_resource_limits());
    } catch (...) {
      _exit(kSandboxFailed);
    }
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur != 256 || limit.rlim_max != 256) _exit(1);
    if (getrlimit(RLIMIT_CORE, &limit) != 0 || limit.rlim_max != 0) _exit(2);
    if (getrlimit(RLIMIT_FSIZE, &limit) != 0 || limit.rlim_max != 0) _exit(3);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace provium::runner::sandbox
