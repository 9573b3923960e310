#include "preflight.h"

#include <fmt/format.h>

namespace provium {

PreflightResult check_preflight(const PreflightFacts& facts) {
  PreflightResult result;
  if (!facts.qemu) {
    result.errors.push_back(
        "qemu-system-x86_64 is not on PATH; install it (Debian: apt install qemu-system-x86) or fix PATH");
  }
  if (!facts.runner.path) {
    result.errors.push_back(fmt::format(
        "provium-runner was not found (searched: {}); build it (ninja -C build) or set PROVIUM_RUNNER",
        facts.runner.searched_list()));
  }
  if (!facts.accel.usable) result.errors.push_back(facts.accel.message + "; use --accel auto or --accel tcg");
  if (facts.builtin_default_profile && !facts.guest_dir.path) {
    result.warnings.push_back(fmt::format(
        "the bundled guest was not found (searched: {}); tests using the `default` profile will fail. Build it "
        "with guest/build-default-guest.sh or set PROVIUM_GUEST_DIR",
        facts.guest_dir.searched_list()));
  }
  return result;
}

}  // namespace provium
