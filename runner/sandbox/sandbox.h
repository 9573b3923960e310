// The runner's confinement, applied once at startup before it touches any
// untrusted input. Order matters: capabilities first (later steps must not
// need them), then no_new_privs (Landlock and seccomp require it), limits,
// Landlock, and seccomp last (it forbids the syscalls the others use).
#pragma once

#include <string>
#include <vector>

namespace provium::runner::sandbox {

struct SandboxReport {
  std::vector<std::string> notes;  // e.g. "Landlock unavailable ..."
};

// Throws std::runtime_error naming the step that failed; the caller must not
// go on running without the sandbox.
SandboxReport apply_runner_sandbox();

}  // namespace provium::runner::sandbox
