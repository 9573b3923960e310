// Operation costs once a guest is up, provium against the bare floor:
//  - vm:stat round trip against a raw agent ping (goal <= 2x);
//  - vm:run("/bin/true") against the guest's own fork+exec of /bin/true
//    (goal <= 1.3x);
//  - vm:read_file of 64 MiB, as MiB/s.
// Bare and provium runs are interleaved; ratios are of medians from this run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <vector>

#include "bare_guest.h"
#include "provium_run.h"

namespace {

constexpr int kStats = 500;
constexpr int kRuns = 100;
constexpr int kForkLoop = 200;

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

struct BareFigures {
  double ping_us;
  double guest_fork_exec_us;
};

BareFigures measure_bare(const provium::bench::BareGuestSpec& spec) {
  provium::bench::BareGuest guest(spec);
  for (int i = 0; i < 50; ++i) guest.ping();  // warm up
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kStats; ++i) guest.ping();
  const double ping_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / kStats;
  // The guest times its own loop (shell builtins only, besides /bin/true);
  // /proc/uptime has 10 ms resolution, fine over a loop of ~1 s.
  const std::string out = guest.run(
      {"/bin/sh", "-c",
       "read s _ < /proc/uptime; i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done; "
       "read e _ < /proc/uptime; echo $s $e"});
  double begin = 0, end = 0;
  std::istringstream(out) >> begin >> end;
  return {ping_us, (end - begin) * 1e6 / kForkLoop};
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  const auto provium = std::filesystem::canonical("/proc/self/exe").parent_path() / ".." / "supervisor" / "provium";
  const auto spec = provium::bench::bare_guest_spec();
  const provium::bench::BenchTestFile file(
      "local vm = provium:vm(\"b\", \"default\"):boot()\n"
      "vm:run(\"dd if=/dev/zero of=/tmp/big bs=1M count=64 2>/dev/null\"):assert_ok()\n"
      "for i = 1, 50 do vm:stat(\"/\") end\n"
      "test(\"stat\", function(t) for i = 1, " + std::to_string(kStats) + " do vm:stat(\"/\") end end)\n"
      "test(\"run\", function(t) for i = 1, " + std::to_string(kRuns) + " do vm:run(\"/bin/true\", {}) end end)\n"
      "test(\"read\", function(t) t:assert_eq(#vm:read_file(\"/tmp/big\"), 64 * 1024 * 1024) end)\n");

  std::vector<double> ping_us, fork_us, stat_us, run_us, read_mib_s;
  for (int round = 0; round < rounds; ++round) {
    const auto bare = measure_bare(spec);
    const auto timings = provium::bench::run_provium(provium, file.path());
    ping_us.push_back(bare.ping_us);
    fork_us.push_back(bare.guest_fork_exec_us);
    stat_us.push_back(timings.tests_ms.at("stat") * 1000 / kStats);
    run_us.push_back(timings.tests_ms.at("run") * 1000 / kRuns);
    read_mib_s.push_back(64.0 / (timings.tests_ms.at("read") / 1000));
    std::printf("round %d: ping %.0f us, stat %.0f us, guest fork+exec %.0f us, vm:run %.0f us, read %.0f MiB/s\n",
                round + 1, ping_us.back(), stat_us.back(), fork_us.back(), run_us.back(), read_mib_s.back());
  }
  std::printf("\nmedians of %d rounds (%s):\n", rounds, spec.accel == provium::Accel::kvm ? "kvm" : "tcg");
  std::printf("  vm:stat round trip  %6.0f us vs raw agent ping %6.0f us: %.2fx   goal <= 2x\n", median(stat_us),
              median(ping_us), median(stat_us) / median(ping_us));
  std::printf("  vm:run(\"/bin/true\") %6.0f us vs guest fork+exec %6.0f us: %.2fx   goal <= 1.3x\n", median(run_us),
              median(fork_us), median(run_us) / median(fork_us));
  std::printf("  vm:read_file 64 MiB %6.0f MiB/s\n", median(read_mib_s));
  return 0;
}
