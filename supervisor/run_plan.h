// Everything decided before the first file runs: the config (with the built-in
// `default` profile), the files to run, the preflight checks and the host
// decisions (accelerator, QEMU, privileges; or, with --vmm local, the agent
// binary and the sandbox check). Problems are printed and become exit code 2.
#pragma once

#include <filesystem>
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

// What a run scans: the CLI paths, else the config's roots, else the cwd.
std::vector<std::filesystem::path> paths_to_scan(const RunOptions& options, const Config& config,
                                                 const std::filesystem::path& cwd);
// Where require() looks: the config's roots, else the directories of the scanned paths.
std::vector<std::filesystem::path> module_roots(const std::vector<std::filesystem::path>& scanned,
                                                const Config& config, const std::filesystem::path& cwd);

// The plan, or the exit code to stop with (after printing why to `err`).
std::variant<RunPlan, int> plan_run(const RunOptions& options, std::ostream& err);

}  // namespace provium
