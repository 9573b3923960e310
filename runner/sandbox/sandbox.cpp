#include "sandbox.h"

#include "capabilities.h"
#include "landlock.h"
#include "resource_limits.h"
#include "seccomp_filter.h"
#include "syscall_policy.h"

#include <sys/prctl.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace provium::runner::sandbox {
namespace {

void set_no_new_privs() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    throw std::runtime_error(std::string("PR_SET_NO_NEW_PRIVS: ") + std::strerror(errno));
  }
}

template <typename Step>
void run_step(const char* what, Step&& step) {
  try {
    step();
  } catch (const std::exception& error) {
    throw std::runtime_error(std::string("sandbox: ") + what + ": " + error.what());
  }
}

}  // namespace

SandboxReport apply_runner_sandbox() {
  SandboxReport report;
  run_step("dropping capabilities", [] { drop_all_capabilities(); });
  run_step("no_new_privs", [] { set_no_new_privs(); });
  run_step("resource limits", [] { apply_resource_limits(runner_resource_limits()); });
  run_step("Landlock", [&] {
    const LandlockResult landlock = restrict_with_landlock();
    if (!landlock.applied) report.notes.push_back(landlock.note);
  });
  run_step("seccomp", [] { install_seccomp_filter(runner_syscall_policy()); });
  return report;
}

}  // namespace provium::runner::sandbox
