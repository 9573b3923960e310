// Startup checks (skipped with --no-preflight). Each failure says how to fix it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "accel.h"
#include "install_layout.h"

namespace provium {

struct PreflightFacts {
  std::optional<std::filesystem::path> qemu;  // qemu-system-x86_64 on PATH
  Located runner;
  bool builtin_default_profile = false;  // `default` is ours, not the config's
  Located guest_dir;
  AccelDecision accel;
};

struct PreflightResult {
  std::vector<std::string> errors;    // exit 2
  std::vector<std::string> warnings;  // printed, the run goes on
};

PreflightResult check_preflight(const PreflightFacts& facts);

// --vmm local needs no QEMU and no guest image, but the runner, the agent
// binary and a working sandbox (user namespaces and the mounts it makes).
struct LocalPreflightFacts {
  Located runner;
  Located agent;
  std::optional<std::string> sandbox_error;  // from probe_local_sandbox()
};

PreflightResult check_local_preflight(const LocalPreflightFacts& facts);

}  // namespace provium
