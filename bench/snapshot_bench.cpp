// Restoring a snapshot against a cold boot, to the first finished command.
//
// 1. Cold boot vs restore, interleaved: each round runs a provium file whose
//    test boots a VM and runs `true`, and one whose test restores a VM from a
//    snapshot its top level took, and runs `true`. The VMs are declared at
//    file scope so that neither test's duration includes the VM's shutdown:
//    the figure is "call to first finished op". A second file splits both
//    into their steps (restore or boot; first run; second run).
// 2. Eight restores of one snapshot, two ways:
//    - in one runner: eight tests each restore one more VM of one snapshot
//      (the others keep running) and run `true`. The runner is single-threaded
//      and vm:restore waits for its RPC, so these happen one after the other;
//      the per-VM time and the sum are what a test file gets today.
//    - eight provium processes started at once, each restoring the same
//      snapshot file: eight QEMUs map it copy-on-write at the same moment.
//      Per-VM time is each test's duration (restore call to `true` done).
// 3. One lab fixture of eight VMs, restored by one provium:lab_fixture call
//    (lab:restore starts every QEMU before waiting for any): the time until
//    every agent answered a file read, then `true` on each in turn. The
//    fixture is built by a first run that is not measured.
//
// Snapshots go to a snapshot_dir inside the benchmark's private directory
// (a provium.toml passed with --config), removed at the end.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "provium_run.h"

namespace {

namespace fs = std::filesystem;
using provium::bench::BenchDirectory;
using provium::bench::ProviumRun;
using provium::bench::run_provium;

constexpr int kCopies = 8;

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double max_of(const std::vector<double>& values) { return *std::max_element(values.begin(), values.end()); }

const char* const kColdFile = R"(local b = provium:vm("b", "default")
test("cold", function(t)
  b:boot():run("true"):assert_ok()
end)
)";

const char* const kRestoreFile = R"(local source = provium:vm("source", "default"):boot()
source:snapshot("interleaved.snap")
source:shutdown()
local r = provium:vm("r", "default")
test("restore", function(t)
  r:restore("interleaved.snap"):run("true"):assert_ok()
end)
)";

// Where the time goes: each step its own test, so each has its own duration.
const char* const kPhasesFile = R"(local source = provium:vm("source", "default"):boot()
source:snapshot("phases.snap")
source:shutdown()
local r = provium:vm("r", "default")
local b = provium:vm("b", "default")
test("restore", function(t) r:restore("phases.snap") end)
test("restored: first run", function(t) r:run("true"):assert_ok() end)
test("restored: second run", function(t) r:run("true"):assert_ok() end)
test("boot", function(t) b:boot() end)
test("booted: first run", function(t) b:run("true"):assert_ok() end)
test("booted: second run", function(t) b:run("true"):assert_ok() end)
)";

const char* const kPhases[] = {"restore", "restored: first run", "restored: second run",
                               "boot",    "booted: first run",   "booted: second run"};

// Eight copies restored by one runner, one per test; earlier copies keep running.
std::string fan_out_file() {
  return R"(local source = provium:vm("source", "default"):boot()
source:snapshot("fanout.snap")
source:shutdown()
local copies = {}
for i = 1, )" + std::to_string(kCopies) + R"( do copies[i] = provium:vm("copy" .. i, "default") end
for i = 1, #copies do
  test("restore " .. i, function(t)
    copies[i]:restore("fanout.snap"):run("true"):assert_ok()
  end)
end
test("all answer", function(t)
  for i = 1, #copies do copies[i]:run("true"):assert_ok() end
end)
)";
}

const char* const kSharedSnapshotFile = R"(local source = provium:vm("source", "default"):boot()
test("snapshot", function(t)
  source:snapshot("shared.snap")
end)
)";

const char* const kOneCopyFile = R"(local c = provium:vm("c", "default")
test("restore", function(t)
  c:restore("shared.snap"):run("true"):assert_ok()
end)
)";

std::string lab_fixture_source() {
  return R"(for i = 1, )" + std::to_string(kCopies) + R"( do provium:vm("v" .. i, "default") end
provium:boot()
return provium:snapshot()
)";
}

// "Answered": each restored guest's agent serves a file read; starting a
// first process is timed apart (after a restore it is the slow part under
// TCG, and one runner starts them one after the other).
std::string lab_fixture_file() {
  return R"(test("restore all", function(t)
  local lab = provium:lab_fixture("eight")
  for i = 1, )" + std::to_string(kCopies) + R"( do lab["v" .. i]:read_file("/proc/uptime") end
end)
test("then true on all", function(t)
  for i = 1, )" + std::to_string(kCopies) + R"( do provium.eight["v" .. i]:run("true"):assert_ok() end
end)
)";
}

struct Concurrent {
  std::vector<double> per_vm_ms;  // each test's restore + run
  double wall_ms = 0;             // first provium started to last one exited
};

Concurrent concurrent_restores(const fs::path& provium, const fs::path& file, const fs::path& config) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<ProviumRun>> runs;
  for (int i = 0; i < kCopies; ++i) runs.push_back(std::make_unique<ProviumRun>(provium, file, config));
  Concurrent result;
  for (auto& run : runs) result.per_vm_ms.push_back(run->finish().tests_ms.at("restore"));
  result.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
  const auto provium = fs::canonical("/proc/self/exe").parent_path() / ".." / "supervisor" / "provium";
  const BenchDirectory dir;
  const auto config = dir.write("provium.toml", "[provium]\nsnapshot_dir = \"snapshots\"\ncache_dir = \"cache\"\n");
  const auto cold_file = dir.write("cold.test.lua", kColdFile);
  const auto restore_file = dir.write("restore.test.lua", kRestoreFile);

  std::vector<double> cold_ms, restore_ms;
  for (int round = 0; round < rounds; ++round) {
    auto cold = [&] { cold_ms.push_back(run_provium(provium, cold_file, config).tests_ms.at("cold")); };
    auto restore = [&] { restore_ms.push_back(run_provium(provium, restore_file, config).tests_ms.at("restore")); };
    if (round % 2 == 0) {
      cold();
      restore();
    } else {
      restore();
      cold();
    }
    std::printf("round %d: cold boot %.0f ms, restore %.0f ms\n", round + 1, cold_ms.back(), restore_ms.back());
  }
  const double cold = median(cold_ms);
  const double restored = median(restore_ms);
  std::printf("\nto the first finished run (median of %d, interleaved):\n", rounds);
  std::printf("  cold boot, vm:boot()+vm:run():       %7.0f ms  (1.00x)\n", cold);
  std::printf("  restore, vm:restore()+vm:run():      %7.0f ms  (%.3fx)   goal <= 0.08x\n", restored, restored / cold);

  std::printf("\nsteps, each its own test (median of %d):\n", rounds);
  const auto phases_file = dir.write("phases.test.lua", kPhasesFile);
  std::map<std::string, std::vector<double>> phase_ms;
  for (int round = 0; round < rounds; ++round) {
    const auto timings = run_provium(provium, phases_file, config);
    for (const char* phase : kPhases) phase_ms[phase].push_back(timings.tests_ms.at(phase));
  }
  for (const char* phase : kPhases) std::printf("  %-22s %7.1f ms\n", phase, median(phase_ms[phase]));

  std::printf("\n%d restores of one snapshot in one runner (one after the other: vm:restore waits):\n", kCopies);
  const auto fan_out = run_provium(provium, dir.write("fanout.test.lua", fan_out_file()), config);
  std::vector<double> fan_out_ms;
  for (int i = 1; i <= kCopies; ++i) fan_out_ms.push_back(fan_out.tests_ms.at("restore " + std::to_string(i)));
  for (std::size_t i = 0; i < fan_out_ms.size(); ++i) {
    std::printf("  copy %zu (%zu already running): %6.0f ms\n", i + 1, i, fan_out_ms[i]);
  }
  std::printf("  median %.0f ms, slowest %.0f ms, all %d: %.0f ms; then `true` on all %d: %.0f ms\n",
              median(fan_out_ms), max_of(fan_out_ms), kCopies,
              std::accumulate(fan_out_ms.begin(), fan_out_ms.end(), 0.0), kCopies, fan_out.tests_ms.at("all answer"));

  std::printf("\n%d provium processes started at once, each restoring the same snapshot:\n", kCopies);
  run_provium(provium, dir.write("shared.test.lua", kSharedSnapshotFile), config);
  const auto concurrent = concurrent_restores(provium, dir.write("copy.test.lua", kOneCopyFile), config);
  for (std::size_t i = 0; i < concurrent.per_vm_ms.size(); ++i) {
    std::printf("  process %zu: restore + run %6.0f ms\n", i + 1, concurrent.per_vm_ms[i]);
  }
  std::printf("  median %.0f ms, slowest %.0f ms (goal: all within 1000 ms); wall, 8 processes: %.0f ms\n",
              median(concurrent.per_vm_ms), max_of(concurrent.per_vm_ms), concurrent.wall_ms);
  std::printf("  for scale, the cold boot above: %.0f ms for one VM alone\n", cold);

  std::printf("\none lab fixture of %d VMs, restored at once by one provium:lab_fixture call:\n", kCopies);
  dir.write("eight.fixture.lua", lab_fixture_source());
  const auto lab_file = dir.write("eight.test.lua", lab_fixture_file());
  run_provium(provium, lab_file, config);  // builds the fixture; not measured
  std::vector<double> lab_ms, true_ms;
  for (int round = 0; round < rounds; ++round) {
    const auto timings = run_provium(provium, lab_file, config);
    lab_ms.push_back(timings.tests_ms.at("restore all"));
    true_ms.push_back(timings.tests_ms.at("then true on all"));
  }
  std::printf("  lab_fixture until all %d agents answered: median %.0f ms, slowest %.0f ms (goal: all within 1000 ms)\n",
              kCopies, median(lab_ms), max_of(lab_ms));
  std::printf("  then `true` on each, one after the other: median %.0f ms for all %d\n", median(true_ms), kCopies);
  return 0;
}
