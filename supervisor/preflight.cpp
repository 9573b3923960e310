#include "preflight.h"

#include <fmt/format.h>

namespace provium {

namespace {

std::string runner_missing(const Located& runner) {
  return fmt::format("provium-runner was not found (searched: {}); build it (ninja -C build) or set PROVIUM_RUNNER",
                     runner.searched_list());
}

}  // namespace

PreflightResult check_preflight(const PreflightFacts& facts) {
  PreflightResult result;
  if (!facts.qemu) {
    result.errors.push_back(
        "qemu-system-x86_64 is not on PATH; install it (Debian: apt install qemu-system-x86) or fix PATH");
  }
  if (!facts.runner.path) result.errors.push_back(runner_missing(facts.runner));
  if (!facts.accel.usable) result.errors.push_back(facts.accel.message + "; use --accel auto or --accel tcg");
  if (facts.builtin_default_profile && !facts.guest_dir.path) {
    result.warnings.push_back(fmt::format(
        "the bundled guest was not found (searched: {}); tests using the `default` profile will fail. Build it "
        "with guest/build-default-guest.sh or set PROVIUM_GUEST_DIR",
        facts.guest_dir.searched_list()));
  }
  return result;
}

PreflightResult check_local_preflight(const LocalPreflightFacts& facts) {
  PreflightResult result;
  if (!facts.runner.path) result.errors.push_back(runner_missing(facts.runner));
  if (!facts.agent.path) {
    result.errors.push_back(fmt::format(
        "--vmm local needs provium-agent, which was not found (searched: {}); build it (ninja -C build) or set "
        "PROVIUM_AGENT",
        facts.agent.searched_list()));
  }
  if (facts.sandbox_error) {
    result.errors.push_back(fmt::format(
        "--vmm local cannot sandbox the agent on this host: {}. It needs user namespaces that an unprivileged "
        "user may create (sysctl user.max_user_namespaces > 0, and kernel.unprivileged_userns_clone = 1 where that "
        "exists; no AppArmor or SELinux policy denying them) and a /proc that is not partly hidden, as container "
        "runtimes do",
        *facts.sandbox_error));
  }
  return result;
}

}  // namespace provium
