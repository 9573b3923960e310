#include "run_command.h"

#include <csignal>
#include <algorithm>
#include <filesystem>
#include <memory>
#include <string_view>

#include <fmt/format.h>

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

namespace {

struct FoundFixture {
  FixtureFile file;
  std::vector<std::filesystem::path> roots;
};

// Every *.fixture.lua under `paths`, named relative to the directory it was found under.
std::vector<FoundFixture> discover_fixtures(const std::vector<std::filesystem::path>& paths,
                                            const std::vector<std::filesystem::path>& module_roots) {
  namespace fs = std::filesystem;
  constexpr std::string_view kSuffix = ".fixture.lua";
  std::vector<FoundFixture> found;
  auto add = [&](const fs::path& file, const fs::path& root) {
    std::string name = fs::relative(file, root).string();
    name.resize(name.size() - kSuffix.size());
    std::vector<fs::path> roots{root};
    roots.insert(roots.end(), module_roots.begin(), module_roots.end());
    found.push_back(FoundFixture{resolve_fixture(name, roots), roots});
  };
  auto is_fixture = [&](const fs::path& p) {
    const std::string text = p.filename().string();
    return text.size() > kSuffix.size() && text.compare(text.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
  };
  for (const fs::path& given : paths) {
    const fs::path path = fs::absolute(given);
    if (fs::is_regular_file(path) && is_fixture(path)) {
      add(path, path.parent_path());
      continue;
    }
    if (!fs::is_directory(path)) throw FixtureError(fmt::format("{}: no such directory or *.fixture.lua file", given.string()));
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(path)) {
      if (entry.is_regular_file() && is_fixture(entry.path())) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) add(file, path);
  }
  return found;
}

}  // namespace

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
      const auto entry = builder.ensure(fixture.file, action == FixtureAction::rebuild).wait(io.waitScope);
      out << fmt::format("ready  {}  {}\n", fixture.file.name, entry.filename().string());
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
