#include "run_plan.h"

#include <filesystem>

#include <unistd.h>

#include "bundled_guest.h"
#include "config_loader.h"
#include "exit_codes.h"
#include "install_layout.h"
#include "local_agent_spawn.h"
#include "preflight.h"
#include "user_paths.h"

namespace provium {
namespace {

namespace fs = std::filesystem;

AccelDecision choose_accel(const RunOptions& options) {
  if (!options.preflight && options.accel == AccelChoice::kvm) {
    return {true, Accel::kvm, "provium: using KVM (not checked: --no-preflight)"};
  }
  return decide_accel(options.accel, probe_host_accel());
}

// --vmm local: the agent binary and a working sandbox instead of QEMU and a
// guest. Prints why not and returns false when the run cannot go on.
bool plan_local_host(const RunOptions& options, const Located& runner, const fs::path& exe_dir, RunPlan& plan,
                     std::ostream& err) {
  const Located agent = find_agent_binary(exe_dir);
  PrivilegeDrop identity;
  try {
    identity = plan_privilege_drop(false);
  } catch (const std::exception&) {
    err << "provium: --vmm local: running as root, but there is no `nobody` user to run the agent as\n";
    return false;
  }
  if (options.preflight) {
    LocalPreflightFacts facts{runner, agent, std::nullopt};
    if (agent.path) facts.sandbox_error = probe_local_sandbox(identity);
    const PreflightResult checks = check_local_preflight(facts);
    for (const auto& warning : checks.warnings) err << "provium: warning: " << warning << "\n";
    for (const auto& error : checks.errors) err << "provium: preflight: " << error << "\n";
    if (!checks.errors.empty()) return false;
  } else {
    if (!runner.path) {
      err << "provium: provium-runner was not found (searched: " << runner.searched_list() << ")\n";
      return false;
    }
    if (!agent.path) {
      err << "provium: provium-agent was not found (searched: " << agent.searched_list() << ")\n";
      return false;
    }
  }
  err << "provium: --vmm local: no kernel is booted; each VM is provium-agent in a sandbox on this host\n";
  plan.local = LocalHostSettings{.agent_binary = *agent.path, .identity = std::move(identity)};
  return true;
}

}  // namespace

std::vector<fs::path> paths_to_scan(const RunOptions& options, const Config& config, const fs::path& cwd) {
  if (!options.paths.empty()) return {options.paths.begin(), options.paths.end()};
  if (!config.roots.empty()) return config.roots;
  return {cwd};
}

// require() searches the config's roots, else the directories given on the command line.
std::vector<fs::path> module_roots(const std::vector<fs::path>& scanned, const Config& config, const fs::path& cwd) {
  if (!config.roots.empty()) return config.roots;
  std::vector<fs::path> roots;
  for (const auto& path : scanned) {
    const fs::path absolute = (path.is_absolute() ? path : cwd / path).lexically_normal();
    std::error_code ignored;
    roots.push_back(fs::is_directory(absolute, ignored) ? absolute : absolute.parent_path());
  }
  return roots;
}

std::variant<RunPlan, int> plan_run(const RunOptions& options, std::ostream& err) {
  const fs::path cwd = fs::current_path();
  const fs::path exe_dir = executable_dir();
  RunPlan plan;
  try {
    plan.config = load_config(options.config_path, options.config_path_explicit);
  } catch (const ConfigError& error) {
    err << "provium: " << error.what() << "\n";
    return kExitInternalError;
  }
  plan.vmm = options.vmm;
  const bool local = options.vmm == Vmm::local;
  const Located guest_dir = local ? Located{} : find_bundled_guest_dir(exe_dir);
  std::optional<BundledGuest> guest;
  try {
    guest = load_bundled_guest(guest_dir);
  } catch (const std::exception& error) {
    err << "provium: warning: bundled guest: " << error.what() << "\n";
  }
  const bool builtin_default = plan.config.profiles.count("default") == 0;
  add_builtin_default_profile(plan.config, guest, guest_dir);
  if (local) {
    // No kernel is booted, so no profile is unavailable for the lack of one.
    for (auto& [name, profile] : plan.config.profiles) profile.unavailable.reset();
  }

  const std::vector<fs::path> scanned = paths_to_scan(options, plan.config, cwd);
  try {
    plan.files = discover_test_files(scanned, options.filter, cwd);
  } catch (const DiscoveryError& error) {
    err << "provium: " << error.what() << "\n";
    return kExitInternalError;
  }

  const Located runner = find_runner_binary(exe_dir);
  const FileRunSettings settings{.runner = runner.path.value_or(fs::path()),
                                 .timeout = options.timeout,
                                 .selection = options.selection,
                                 .test_hooks = options.test_hooks,
                                 .module_roots = module_roots(scanned, plan.config, cwd),
                                 .cwd = cwd,
                                 .project_root = plan.config.file ? plan.config.file->parent_path() : cwd};
  if (local) {
    if (!plan_local_host(options, runner, exe_dir, plan, err)) return kExitInternalError;
    plan.settings = settings;
    return plan;
  }

  const auto qemu = find_program("qemu-system-x86_64");
  const AccelDecision accel = choose_accel(options);
  if (options.preflight) {
    const PreflightResult checks = check_preflight({qemu, runner, builtin_default, guest_dir, accel});
    for (const auto& warning : checks.warnings) err << "provium: warning: " << warning << "\n";
    for (const auto& error : checks.errors) err << "provium: preflight: " << error << "\n";
    if (!checks.errors.empty()) return kExitInternalError;
  } else if (!runner.path) {
    err << "provium: provium-runner was not found (searched: " << runner.searched_list() << ")\n";
    return kExitInternalError;
  }
  err << accel.message << "\n";

  plan.settings = settings;
  plan.host = VmHostSettings{.qemu_binary = qemu ? std::optional<fs::path>(*qemu) : std::nullopt,
                                 .accel = accel.accel,
                                 .privileges = plan_privilege_drop(accel.accel == Accel::kvm),
                                 .bundled_overlay = guest ? std::optional(guest->agent_overlay) : std::nullopt,
                                 .overlay_cache_dir = provium_cache_root() / "agent-overlay-cache",
                                 .vsock_available = ::access("/dev/vhost-vsock", F_OK) == 0};
  return plan;
}

}  // namespace provium
