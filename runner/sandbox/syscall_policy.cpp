#include "syscall_policy.h"

#include <sys/mman.h>

#include <array>
#include <vector>

namespace provium::runner::sandbox {
namespace {

// No new executable memory: the runner never JITs or loads code after start.
constexpr ArgCondition kNotExecutable{.arg = 2, .mask = PROT_EXEC, .value = 0};

constexpr std::array kPolicy = {
    // Byte streams we already hold: the supervisor socket, the agent socket,
    // stdout/stderr (the log pipe).
    AllowedSyscall{"read", "agent socket, kj event loop"},
    AllowedSyscall{"write", "agent socket, log pipe"},
    AllowedSyscall{"readv", "kj stream reads"},
    AllowedSyscall{"writev", "kj stream writes"},
    AllowedSyscall{"recvmsg", "Cap'n Proto RPC with fd passing"},
    AllowedSyscall{"sendmsg", "Cap'n Proto RPC"},
    AllowedSyscall{"sendto", "send(MSG_NOSIGNAL) on the agent socket"},
    AllowedSyscall{"close", "dropping fds we own"},
    AllowedSyscall{"dup", "keeping the agent fd past its capability"},
    AllowedSyscall{"dup3", "fd duplication"},
    AllowedSyscall{"fcntl", "O_NONBLOCK / FD_CLOEXEC / F_DUPFD_CLOEXEC"},
    // Waiting.
    AllowedSyscall{"poll", "agent calls with a deadline"},
    AllowedSyscall{"ppoll", "agent calls with a deadline"},
    AllowedSyscall{"epoll_create1", "kj event loop"},
    AllowedSyscall{"epoll_ctl", "kj event loop"},
    AllowedSyscall{"epoll_wait", "kj event loop"},
    AllowedSyscall{"epoll_pwait", "kj event loop"},
    AllowedSyscall{"eventfd2", "kj cross-thread wakeup fd"},
    AllowedSyscall{"signalfd4", "kj UnixEventPort signal delivery"},
    // Memory.
    AllowedSyscall{"brk", "malloc"},
    AllowedSyscall{"mmap", "malloc", true, kNotExecutable},
    AllowedSyscall{"mprotect", "malloc guard pages", true, kNotExecutable},
    AllowedSyscall{"munmap", "malloc"},
    AllowedSyscall{"mremap", "realloc of large blocks"},
    AllowedSyscall{"madvise", "malloc trimming"},
    // Time.
    AllowedSyscall{"clock_gettime", "deadlines; os.clock (CPU-time clocks bypass the vDSO)"},
    AllowedSyscall{"clock_getres", "kj timer"},
    AllowedSyscall{"gettimeofday", "os.time fallback"},
    AllowedSyscall{"time", "os.time fallback"},
    AllowedSyscall{"clock_nanosleep", "wait_until intervals"},
    AllowedSyscall{"nanosleep", "wait_until intervals"},
    // Threads and signals of this one process.
    AllowedSyscall{"futex", "libstdc++/kj locks"},
    AllowedSyscall{"getpid", "raise(), kj"},
    AllowedSyscall{"gettid", "raise(), kj"},
    AllowedSyscall{"tgkill", "abort()/raise() to ourselves only", false, {}, true},
    AllowedSyscall{"rt_sigaction", "kj, abort()"},
    AllowedSyscall{"rt_sigprocmask", "kj, abort()"},
    AllowedSyscall{"rt_sigreturn", "returning from a signal handler"},
    AllowedSyscall{"sigaltstack", "signal stacks"},
    AllowedSyscall{"restart_syscall", "interrupted sleeps"},
    AllowedSyscall{"sched_yield", "lock back-off"},
    AllowedSyscall{"getrandom", "hash seeds, math.random"},
    // Leaving.
    AllowedSyscall{"exit", "thread exit"},
    AllowedSyscall{"exit_group", "process exit"},
};

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// Only in ASan/UBSan builds (the test suite runs one): what the sanitizer
// runtime itself needs while the runner works.
constexpr std::array kSanitizerExtras = {
    AllowedSyscall{"pipe2", "sanitizer_common probes memory readability through a pipe"},
};

std::vector<AllowedSyscall> build_policy() {
  std::vector<AllowedSyscall> policy(kPolicy.begin(), kPolicy.end());
  if (kSanitized) policy.insert(policy.end(), kSanitizerExtras.begin(), kSanitizerExtras.end());
  return policy;
}

}  // namespace

std::span<const AllowedSyscall> runner_syscall_policy() {
  static const std::vector<AllowedSyscall> policy = build_policy();
  return policy;
}

}  // namespace provium::runner::sandbox
