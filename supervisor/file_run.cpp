#include "file_run.h"

#include "lab_snapshot_index.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest_ram.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "file_io.h"
#include "runner_spawn.h"
#include "stream_drain.h"

namespace provium {
namespace {

// After the runner is gone: how long its last RPC messages and output may take to arrive.
constexpr auto kSettleTime = 2 * kj::SECONDS;
// After finish() or closing its connection: how long a runner may take to exit.
constexpr auto kExitGrace = 10 * kj::SECONDS;
constexpr std::size_t kLogLinesInReport = 20;
constexpr unsigned kMaxFdsPerMessage = 2;

std::vector<std::filesystem::path> module_roots_for(const TestFile& file, const FileRunSettings& settings) {
  std::vector<std::filesystem::path> roots{file.absolute.parent_path()};
  for (const auto& root : settings.module_roots) {
    if (root != roots.front()) roots.push_back(root);
  }
  return roots;
}

// push_file may read under the module roots and the project root.
HostFileRoots host_file_roots_for(const std::vector<std::filesystem::path>& module_roots,
                                  const FileRunSettings& settings) {
  HostFileRoots files{module_roots, settings.cwd};
  const std::filesystem::path project = settings.project_root.empty() ? settings.cwd : settings.project_root;
  if (!project.empty() && std::find(files.roots.begin(), files.roots.end(), project) == files.roots.end()) {
    files.roots.push_back(project);
  }
  return files;
}

}  // namespace

FileRun::FileRun(kj::AsyncIoContext& io, const VmServices& services, const FileRunSettings& settings, TestFile file,
                 FixtureProvider* fixtures, bool fixture_job)
    : io_(io),
      services_(services),
      settings_(settings),
      file_(std::move(file)),
      snapshots_(services.config.snapshot_dir, file_.absolute.stem().stem().string()),
      network_([datapath = services.net_datapath]() { return make_file_network(datapath); }) {
  fleet_.observe(services.events, file_.display);
  job_.display_path = file_.display;
  job_.selection = settings_.selection;
  job_.test_hooks = settings_.test_hooks;
  job_.module_roots = module_roots_for(file_, settings_);
  job_.cwd = settings_.cwd;
  job_.host_files = host_file_roots_for(job_.module_roots, settings_);
  job_.fixture = fixture_job;
  fixtures_ = fixtures;
}

FixtureKind FileRun::fixture_snapshot_kind(const std::string& named) {
  const std::filesystem::path path = snapshots_.resolve(named);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return FixtureKind::lab;
  return FixtureKind::vm;
}

void FileRun::claim_fixture_snapshot(const std::string& named, FixtureKind kind, const std::filesystem::path& into) {
  if (kind == FixtureKind::lab) {
    const std::filesystem::path directory = snapshots_.existing_directory(named);
    check_lab_snapshot(directory);
    if (::rename(directory.c_str(), into.c_str()) == 0) return;
    if (errno != EXDEV) {
      throw std::runtime_error(fmt::format("cannot move {} into the cache: {}", directory.string(), std::strerror(errno)));
    }
    // snapshot_dir and cache_dir on different file systems: copy each file, keeping holes.
    if (::mkdir(into.c_str(), 0700) != 0) throw std::runtime_error(fmt::format("{}: {}", into.string(), std::strerror(errno)));
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
      OwnedFd in(::open(entry.path().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      OwnedFd out(::open((into / entry.path().filename()).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      struct stat st {};
      if (!in.valid() || !out.valid() || ::fstat(in.get(), &st) != 0) {
        throw std::runtime_error(fmt::format("copying {} into the cache: {}", entry.path().string(), std::strerror(errno)));
      }
      copy_sparse(in.get(), out.get(), static_cast<std::uint64_t>(st.st_size));
    }
    return;
  }
  std::filesystem::path path;
  OwnedFd fd = snapshots_.open_existing(named, &path);
  if (::rename(path.c_str(), into.c_str()) == 0) return;
  if (errno != EXDEV) throw std::runtime_error(fmt::format("cannot move {} into the cache: {}", path.string(), std::strerror(errno)));
  // snapshot_dir and cache_dir on different file systems: copy, keeping holes.
  OwnedFd out(::open(into.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!out.valid()) throw std::runtime_error(fmt::format("{}: {}", into.string(), std::strerror(errno)));
  struct stat st {};
  ::fstat(fd.get(), &st);
  copy_sparse(fd.get(), out.get(), static_cast<std::uint64_t>(st.st_size));
}

std::chrono::milliseconds FileRun::elapsed() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_);
}

kj::Promise<FileResult> FileRun::run() {
  started_ = std::chrono::steady_clock::now();
  try {
    job_.source = read_file_capped(file_.absolute, kMaxTestSourceBytes);
  } catch (const std::exception& error) {
    return FileResult{.path = file_.display, .status = FileStatus::failed, .chunk_error = error.what(),
                      .elapsed = elapsed()};
  }
  std::optional<SpawnedRunner> started;
  try {
    started.emplace(spawn_runner(settings_.runner));
  } catch (const std::exception& error) {
    return conclude(RunnerEnd{.kind = RunnerEndKind::failed_to_start, .detail = error.what()});
  }
  SpawnedRunner& spawned = *started;
  runner_.emplace(std::move(spawned.process));
  exit_watcher_ = kj::heap<ExitWatcher>(io_.unixEventPort, *runner_);
  log_stream_ = io_.lowLevelProvider->wrapInputFd(kj::mv(spawned.log));
  log_drained_ = drain_into(*log_stream_, log_).fork();

  auto finish = kj::newPromiseAndFulfiller<void>();
  finish_called_ = kj::mv(finish.fulfiller);
  auto session = kj::heap<SessionServer>(job_, progress_, fleet_, network_, vm_servers_, snapshots_, services_,
                                         [this]() { finish_called_->fulfill(); }, fixtures_);
  rpc_stream_ = io_.lowLevelProvider->wrapUnixSocketFd(kj::mv(spawned.rpc));
  rpc_server_ = kj::heap<capnp::TwoPartyServer>(kj::mv(session));
  // capnp 0.9 only *sends* fds (the agent channel) when this limit is non-zero.
  // What the runner might send us is bounded by it and closed unused: no
  // Session method takes a capability.
  rpc_done_ = rpc_server_->accept(*rpc_stream_, kMaxFdsPerMessage).catch_([](kj::Exception&&) {}).fork();

  return runner_end(kj::mv(finish.promise)).then([this](RunnerEnd end) {
    return settle().then([this, end = kj::mv(end)]() mutable { return conclude(kj::mv(end)); });
  });
}

// Whichever comes first: the runner exits, the file times out, or the runner
// lingers after finish() or after closing its connection (it can do nothing
// useful then, and must not hold the run until the file timeout).
kj::Promise<RunnerEnd> FileRun::runner_end(kj::Promise<void> finish_called) {
  auto& timer = io_.provider->getTimer();
  auto exited = exit_watcher_->exited().then([](ExitStatus status) {
    return RunnerEnd{.kind = RunnerEndKind::exited, .status = status};
  });
  kj::Promise<void> done_talking = kj::mv(finish_called);
  KJ_IF_MAYBE(rpc, rpc_done_) { done_talking = done_talking.exclusiveJoin(rpc->addBranch()); }
  auto lingered = done_talking.then([&timer]() { return timer.afterDelay(kExitGrace); })
                      .then([this]() {
                        runner_->kill_and_wait();
                        return RunnerEnd{.kind = RunnerEndKind::lingered};
                      });
  kj::Promise<RunnerEnd> end = exited.exclusiveJoin(kj::mv(lingered));
  if (settings_.timeout.count() > 0) {
    end = end.exclusiveJoin(timer.afterDelay(settings_.timeout.count() * kj::MILLISECONDS).then([this]() {
      runner_->kill_and_wait();
      return RunnerEnd{.kind = RunnerEndKind::timed_out};
    }));
  }
  return end;
}

// Waits (briefly) for the connection to close and the log to drain, so a
// finish() sent just before exiting and the runner's last words are not lost.
kj::Promise<void> FileRun::settle() {
  kj::Promise<void> rpc = kj::READY_NOW;
  KJ_IF_MAYBE(done, rpc_done_) { rpc = done->addBranch(); }
  kj::Promise<void> log = kj::READY_NOW;
  KJ_IF_MAYBE(drained, log_drained_) { log = drained->addBranch(); }
  return kj::joinPromises(kj::arr(kj::mv(rpc), kj::mv(log)))
      .exclusiveJoin(io_.provider->getTimer().afterDelay(kSettleTime));
}

FileResult FileRun::conclude(RunnerEnd end) {
  end.log_tail = log_.last_lines(kLogLinesInReport);
  end.timeout = settings_.timeout;
  FileResult result = classify_file_end(file_.display, progress_, end);
  if (progress_.running && !progress_.finish_received) {
    // The runner never reported this test's end: it ends here, failed with the file.
    const auto interrupted = std::find_if(result.tests.rbegin(), result.tests.rend(),
                                          [&](const TestResult& test) { return test.name == *progress_.running; });
    emit(services_.events,
         events::test_ended(file_.display, *progress_.running, TestEnd::failed,
                            interrupted != result.tests.rend() ? interrupted->message : result.error.value_or(""),
                            std::chrono::steady_clock::now() - progress_.running_since));
  }
  tear_down();
  // Whatever the end, the file's VMs are gone now, and with them its claim.
  release_claim();
  result.elapsed = elapsed();
  return result;
}

FileRun::~FileRun() noexcept(false) {
  if (progress_.claim && !claim_released_) {
    fleet_.destroy_all();
    release_claim();
  }
}

void FileRun::release_claim() {
  if (!progress_.claim || job_.fixture || std::exchange(claim_released_, true)) return;
  emit(services_.events, events::claim_released(file_.display, *progress_.claim));
}

void FileRun::tear_down() {
  rpc_done_ = nullptr;  // cancels the RPC connection: no more calls from this runner
  rpc_server_ = nullptr;
  rpc_stream_ = nullptr;
  fleet_.destroy_all();
  network_.close();
  if (runner_ && runner_->running()) runner_->kill_and_wait();
}

}  // namespace provium
