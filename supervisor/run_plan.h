// Everything decided before the first file runs: the config (with the built-in
// `default` profile), the files to run, the preflight checks and the host
// decisions (accelerator, QEMU, privileges; or, with --vmm local, the agent
// binary and the sandbox check). Problems are printed and become exit code 2.
#pragma once

#include <ostream>
#include <variant>
#include <vector>

#include "config.h"
#include "discovery.h"
#include "file_run.h"
#include "local_launcher.h"
#include "run_options.h"
#include "vm_launcher.h"

namespace provium {

struct RunPlan {
  Config config;
  std::vector<TestFile> files;
  FileRunSettings settings;
  Vmm vmm = Vmm::qemu;
  VmHostSettings host;     // --vmm qemu
  LocalHostSettings local;  // --vmm local
};

// The plan, or the exit code to stop with (after printing why to `err`).
std::variant<RunPlan, int> plan_run(const RunOptions& options, std::ostream& err);

}  // namespace provium
