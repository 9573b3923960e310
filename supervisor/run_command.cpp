#include "run_command.h"

#include <csignal>
#include <memory>

#include <unistd.h>

#include <kj/async-io.h>
#include <kj/async-unix.h>

#include "exit_codes.h"
#include "file_run.h"
#include "fixture_builder.h"
#include "fixture_command.h"
#include "local_launcher.h"
#include "report_json.h"
#include "report_text.h"
#include "run_plan.h"
#include "scheduler.h"

namespace provium {
namespace {

// Files run one at a time for now; the scheduler takes any limit.
constexpr std::size_t kConcurrentFiles = 1;

std::unique_ptr<Reporter> make_reporter(const RunOptions& options, std::ostream& out, std::ostream& err) {
  if (options.json) return std::make_unique<JsonReporter>(out, err);
  return std::make_unique<TextReporter>(out, options.verbosity);
}

kj::Own<VmBackend> make_backend(kj::AsyncIoContext& io, const RunPlan& plan) {
  if (plan.vmm == Vmm::local) return kj::heap<LocalVmLauncher>(io, plan.local);
  return kj::heap<VmLauncher>(io, plan.host);
}

}  // namespace

int run_tests(const RunOptions& options, std::ostream& out, std::ostream& err) {
  auto plan_or_exit = plan_run(options, err);
  if (const int* code = std::get_if<int>(&plan_or_exit)) return *code;
  RunPlan& plan = std::get<RunPlan>(plan_or_exit);
  const auto reporter = make_reporter(options, out, err);
  if (plan.files.empty()) err << "provium: no *.test.lua files found\n";
  prune_fixture_cache(plan.config, err);
  SnapshotPlaces::remove_abandoned(plan.config.snapshot_dir);

  // Delivered through the event loop, so teardown runs in order, not in a handler.
  kj::UnixEventPort::captureSignal(SIGINT);
  kj::UnixEventPort::captureSignal(SIGTERM);
  auto io = kj::setupAsyncIo();
  kj::Own<VmBackend> backend = make_backend(io, plan);
  const VmServices services{plan.config, *backend, static_cast<unsigned>(::sysconf(_SC_NPROCESSORS_ONLN)),
                            options.net};
  if (options.verbosity == Verbosity::verbose && !options.json) {
    err << "provium: test networks: " << describe_net_choice(options.net) << "\n";
  }

  FixtureBuilder fixtures(io, services, plan.settings, err);
  RunSummary summary;
  const auto started = std::chrono::steady_clock::now();
  Scheduler scheduler(
      kConcurrentFiles,
      [&](const TestFile& file) {
        auto run = kj::heap<FileRun>(io, services, plan.settings, file, &fixtures);
        auto result = run->run();
        return result.attach(kj::mv(run));
      },
      [&](const FileResult& result) {
        summary.add(result);
        reporter->file_finished(result);
        return !(options.fail_fast && !result.passed());
      });
  auto interrupted = io.unixEventPort.onSignal(SIGINT).then([](siginfo_t) { return true; });
  interrupted = interrupted.exclusiveJoin(io.unixEventPort.onSignal(SIGTERM).then([](siginfo_t) { return true; }));
  const bool was_interrupted =
      scheduler.run(plan.files).then([]() { return false; }).exclusiveJoin(kj::mv(interrupted)).wait(io.waitScope);

  summary.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  reporter->run_finished(summary);
  if (was_interrupted) {
    err << "provium: interrupted\n";
    return kExitSomethingFailed;
  }
  return summary.files_not_passed > 0 ? kExitSomethingFailed : kExitAllPassed;
}

}  // namespace provium
