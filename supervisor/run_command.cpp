#include "run_command.h"

#include <csignal>
#include <algorithm>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include <unistd.h>

#include <kj/async-io.h>
#include <kj/async-unix.h>

#include "event_stream.h"
#include "exit_codes.h"
#include "file_io.h"
#include "file_run.h"
#include "fixture_builder.h"
#include "fixture_command.h"
#include "fixture_dependency_scan.h"
#include "fixture_discovery.h"
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

// The sinks the flags ask for; false (after saying why) when one cannot be opened.
bool open_event_sinks(const RunOptions& options, EventStream& stream, std::ostream& err) {
  try {
    if (options.save_events) stream.add_sink(FdEventSink::create_file(*options.save_events));
    if (options.events_stdout) stream.add_sink(FdEventSink::standard_output());
    if (options.events_socket) stream.add_sink(std::make_unique<SocketEventSink>(*options.events_socket));
  } catch (const std::exception& error) {
    err << "provium: " << error.what() << "\n";
    return false;
  }
  return true;
}

// The fixtures a test file names literally (vm_fixture/lab_fixture), read without running it.
std::vector<std::string> fixture_refs_of(const TestFile& file) {
  std::vector<std::string> refs;
  try {
    for (const auto& use : scan_fixture_uses(read_file_capped(file.absolute, kMaxTestSourceBytes)).fixtures) {
      if (std::find(refs.begin(), refs.end(), use.path) == refs.end()) refs.push_back(use.path);
    }
  } catch (const std::exception&) {
    // Unreadable: the file's own run reports that.
  }
  return refs;
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
  // With frames on stdout, the human or JSON report moves to stderr.
  const auto reporter = make_reporter(options, options.events_stdout ? err : out, err);
  EventStream events(err);
  if (!open_event_sinks(options, events, err)) return kExitInternalError;
  if (plan.files.empty()) err << "provium: no *.test.lua files found\n";
  prune_fixture_cache(plan.config, err);
  SnapshotPlaces::remove_abandoned(plan.config.snapshot_dir);

  // Delivered through the event loop, so teardown runs in order, not in a handler.
  kj::UnixEventPort::captureSignal(SIGINT);
  kj::UnixEventPort::captureSignal(SIGTERM);
  auto io = kj::setupAsyncIo();
  kj::Own<VmBackend> backend = make_backend(io, plan);
  const VmServices services{plan.config, *backend, static_cast<unsigned>(::sysconf(_SC_NPROCESSORS_ONLN)),
                            options.net, &events};
  for (const TestFile& file : plan.files) emit(&events, events::file_discovered(file.display, fixture_refs_of(file)));
  if (options.verbosity == Verbosity::verbose && !options.json) {
    err << "provium: test networks: " << describe_net_choice(options.net) << "\n";
  }

  FixtureBuilder fixtures(io, services, plan.settings, err);
  RunSummary summary;
  const auto started = std::chrono::steady_clock::now();
  Scheduler scheduler(
      kConcurrentFiles,
      [&](const TestFile& file) {
        emit(&events, events::file_dispatched(file.display));
        auto run = kj::heap<FileRun>(io, services, plan.settings, file, &fixtures);
        auto result = run->run();
        return result.attach(kj::mv(run));
      },
      [&](const FileResult& result) {
        emit(&events, events::file_completed(result.path, to_string(result.status), result.elapsed));
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

int run_fixture_action(FixtureAction action, const RunOptions& options, std::ostream& out, std::ostream& err) {
  auto plan_or_exit = plan_run(options, err);
  if (const int* code = std::get_if<int>(&plan_or_exit)) return *code;
  RunPlan& plan = std::get<RunPlan>(plan_or_exit);
  std::vector<std::filesystem::path> paths(options.paths.begin(), options.paths.end());
  if (paths.empty()) paths = plan.config.roots.empty() ? std::vector<std::filesystem::path>{"."} : plan.config.roots;
  std::vector<FoundFixture> fixtures;
  try {
    fixtures = discover_fixtures(paths, plan.settings.module_roots);
  } catch (const std::exception& error) {
    err << "provium: " << error.what() << "\n";
    return kExitInternalError;
  }
  if (fixtures.empty()) out << "no *.fixture.lua files found\n";
  auto io = kj::setupAsyncIo();
  kj::Own<VmBackend> backend = make_backend(io, plan);
  const VmServices services{plan.config, *backend, static_cast<unsigned>(::sysconf(_SC_NPROCESSORS_ONLN)),
                            options.net};
  FixtureBuilder builder(io, services, plan.settings, err);
  int failures = 0;
  for (const FoundFixture& fixture : fixtures) {
    try {
      if (action == FixtureAction::stale) {
        out << fmt::format("{:<6} {}\n", builder.is_cached(fixture.file) ? "fresh" : "stale", fixture.file.name);
        continue;
      }
      const auto provided = builder.ensure(fixture.file, action == FixtureAction::rebuild).wait(io.waitScope);
      out << fmt::format("ready  {}  {}\n", fixture.file.name, provided.entry.filename().string());
    } catch (const kj::Exception& error) {  // first: kj's thrown exceptions are std::exceptions too
      ++failures;
      out << fmt::format("FAIL   {}\n       {}\n", fixture.file.name, error.getDescription().cStr());
    } catch (const std::exception& error) {
      ++failures;
      out << fmt::format("FAIL   {}\n       {}\n", fixture.file.name, error.what());
    }
  }
  return failures == 0 ? kExitAllPassed : kExitSomethingFailed;
}

}  // namespace provium
