// Cold boot to the first finished command: provium against bare QEMU.
//
// Both sides boot the bundled default guest with the same kernel, initrd,
// cmdline and QEMU flags (bare_guest.h). Rounds are interleaved and alternate
// which side goes first, because this host's speed drifts; the result is
// printed as ratios of medians measured in this run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "bare_guest.h"
#include "provium_run.h"

namespace {

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double bare_boot_ms(const provium::bench::BareGuestSpec& spec) {
  const auto start = std::chrono::steady_clock::now();
  provium::bench::BareGuest guest(spec);
  guest.run({"true"});
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
  const auto provium = std::filesystem::canonical("/proc/self/exe").parent_path() / ".." / "supervisor" / "provium";
  const auto spec = provium::bench::bare_guest_spec();
  const provium::bench::BenchTestFile file(
      "test(\"boot\", function(t)\n  provium:vm(\"b\", \"default\"):boot():run(\"true\"):assert_ok()\nend)\n");

  std::vector<double> bare_ms, body_ms, whole_ms;
  for (int round = 0; round < rounds; ++round) {
    auto run_provium = [&] {
      const auto timings = provium::bench::run_provium(provium, file.path());
      whole_ms.push_back(timings.whole_ms);
      body_ms.push_back(timings.tests_ms.at("boot"));
    };
    if (round % 2 == 0) {
      bare_ms.push_back(bare_boot_ms(spec));
      run_provium();
    } else {
      run_provium();
      bare_ms.push_back(bare_boot_ms(spec));
    }
    std::printf("round %d: bare %.0f ms, provium test body %.0f ms, provium process %.0f ms\n", round + 1,
                bare_ms.back(), body_ms.back(), whole_ms.back());
  }
  const double floor = median(bare_ms);
  std::printf("\nboot to first finished run (%s, median of %d, interleaved):\n",
              spec.accel == provium::Accel::kvm ? "kvm" : "tcg", rounds);
  std::printf("  bare QEMU + agent:            %7.0f ms  (1.00x)\n", floor);
  std::printf("  provium, vm:boot()+vm:run():  %7.0f ms  (%.2fx)   goal <= 1.15x\n", median(body_ms),
              median(body_ms) / floor);
  std::printf("  provium, whole process:       %7.0f ms  (%.2fx)\n", median(whole_ms), median(whole_ms) / floor);
  return 0;
}
