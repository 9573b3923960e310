// Installs a seccomp filter that kills the whole process on any syscall the
// policy does not list.
#pragma once

#include "syscall_policy.h"

#include <span>

namespace provium::runner::sandbox {

// Requires no_new_privs (or CAP_SYS_ADMIN). Throws std::runtime_error naming
// the syscall or libseccomp step that failed.
void install_seccomp_filter(std::span<const AllowedSyscall> policy);

}  // namespace provium::runner::sandbox
