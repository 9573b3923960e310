// What the sandboxed runner may still ask of the kernel, as data. The
// mechanism that turns this into a seccomp filter lives in seccomp_filter.cpp.
#pragma once

#include <cstdint>
#include <span>

namespace provium::runner::sandbox {

// An extra condition on one syscall argument; the call is allowed only when
// (arg & mask) == value.
struct ArgCondition {
  unsigned arg = 0;
  std::uint64_t mask = 0;
  std::uint64_t value = 0;
};

struct AllowedSyscall {
  const char* name;
  const char* why;
  // Optional restriction; `has_condition` false means any arguments.
  bool has_condition = false;
  ArgCondition condition;
  // Compare the argument against the runner's own pid, resolved at install
  // time (for tgkill: signals to ourselves only).
  bool arg0_is_own_pid = false;
};

// Everything the runner does after the sandbox is applied: the Lua
// interpreter, kj's event loop on the supervisor socket, and blocking reads
// and writes on the agent socket it received. No exec, no open, no new
// sockets, no fork or threads, no ptrace, no mounts.
std::span<const AllowedSyscall> runner_syscall_policy();

}  // namespace provium::runner::sandbox
