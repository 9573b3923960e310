#include "fixture_builder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "file_run.h"
#include "kj_error.h"
#include "lab_snapshot_index.h"
#include "snapshot_file.h"

namespace provium {

namespace fs = std::filesystem;

namespace {

constexpr auto kLockPoll = 100 * kj::MILLISECONDS;

std::string holder_name(const FixtureFile& fixture) {
  return fmt::format("provium (pid {}) building {}", ::getpid(), fixture.path.string());
}

FixtureKind kind_of_entry(const fs::path& entry) {
  return entry.extension() == ".lab" ? FixtureKind::lab : FixtureKind::vm;
}

// Reads the entry's metadata and checks its device state (every VM's, for a
// lab); throws SnapshotFileError or LabIndexError when damaged.
void check_entry(const fs::path& entry, FixtureKind kind) {
  if (kind == FixtureKind::lab) {
    check_lab_snapshot(entry);
    return;
  }
  OwnedFd fd(::open(entry.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) throw SnapshotFileError(fmt::format("snapshot {}: cannot open it", entry.string()));
  read_snapshot_file(fd.get(), entry.string());
}

// The call that matches what a fixture's chunk returns.
const char* loader_of(FixtureKind kind) {
  return kind == FixtureKind::lab ? "provium:lab_fixture (its chunk returns provium:snapshot())"
                                  : "provium:vm_fixture (its chunk returns vm:snapshot())";
}

// Disk space an entry takes (snapshots are sparse; a lab entry is a directory),
// as `provium fixture list` counts it.
std::uint64_t allocated_bytes(const fs::path& entry) {
  struct stat st {};
  if (::lstat(entry.c_str(), &st) != 0) return 0;
  std::uint64_t total = static_cast<std::uint64_t>(st.st_blocks) * 512;
  if (S_ISDIR(st.st_mode)) {
    std::error_code ignored;
    for (const auto& child : fs::directory_iterator(entry, ignored)) total += allocated_bytes(child.path());
  }
  return total;
}

}  // namespace

FixtureBuilder::FixtureBuilder(kj::AsyncIoContext& io, const VmServices& services, const FileRunSettings& settings,
                               std::ostream& notes)
    : io_(io),
      services_(services),
      settings_(settings),
      notes_(notes),
      cache_(services.config.cache_dir),
      keyer_(services.config, settings.module_roots) {}

kj::Promise<ProvidedFixture> FixtureBuilder::fixture(const std::string& name, const std::vector<fs::path>& roots,
                                                    FixtureKind kind) {
  FixtureFile fixture;
  try {
    fixture = resolve_fixture(name, roots);
  } catch (const std::exception& error) {
    throw_kj_error(error.what());
  }
  return ensure(fixture, false).then([this, fixture, kind](ProvidedFixture provided) -> kj::Promise<ProvidedFixture> {
    const fs::path& entry = provided.entry;
    const FixtureKind built = kind_of_entry(entry);
    if (built != kind) {
      throw_kj_error(fmt::format("fixture `{}` ({}) is a {} fixture: load it with {}", fixture.name,
                                 fixture.path.string(), fixture_kind_name(built), loader_of(built)));
    }
    try {
      check_entry(entry, built);
      return provided;
    } catch (const std::runtime_error& error) {
      // A damaged entry is rebuilt rather than restored (or kept failing).
      notes_ << fmt::format("provium: fixture `{}`: the cached entry is damaged ({}); rebuilding it\n", fixture.name,
                            error.what());
      return ensure(fixture, true);
    }
  });
}

bool FixtureBuilder::is_cached(const FixtureFile& fixture) { return find_entry(keyer_.key_of(fixture)).has_value(); }

std::optional<fs::path> FixtureBuilder::find_entry(const std::string& key) const {
  if (auto entry = cache_.find(key, FixtureKind::vm)) return entry;
  return cache_.find(key, FixtureKind::lab);
}

kj::Promise<ProvidedFixture> FixtureBuilder::ensure(const FixtureFile& fixture, bool rebuild) {
  std::string key;
  try {
    key = keyer_.key_of(fixture);
    if (!rebuild) {
      if (auto entry = find_entry(key)) {
        cache_.mark_used(*entry);
        return ProvidedFixture{fixture.name, *entry, true};
      }
    }
  } catch (const std::exception& error) {
    throw_kj_error(error.what());
  }
  return lock(key, fixture).then([this, fixture, key, rebuild](FixtureBuildLock held) -> kj::Promise<ProvidedFixture> {
    if (rebuild) {
      cache_.evict(key, FixtureKind::vm);
      cache_.evict(key, FixtureKind::lab);
    } else if (auto entry = find_entry(key)) {
      // Built by another provium process while we waited.
      cache_.mark_used(*entry);
      return ProvidedFixture{fixture.name, *entry, true};
    }
    return build(fixture, key, kj::mv(held));
  });
}

kj::Promise<FixtureBuildLock> FixtureBuilder::lock(const std::string& key, const FixtureFile& fixture) {
  if (auto held = cache_.try_lock(key, FixtureKind::vm, holder_name(fixture))) return kj::mv(*held);
  const std::string holder = fixture_lock_holder(cache_.lock_path(key, FixtureKind::vm));
  notes_ << fmt::format("provium: fixture `{}`: waiting for {}\n", fixture.name, holder);
  emit(services_.events, events::fixture_build_waiting(fixture.name, holder));
  // Polled with a timer: a blocking flock would stall every VM of this run.
  return io_.provider->getTimer().afterDelay(kLockPoll).then([this, key, fixture]() {
    return lock_again(key, fixture);
  });
}

kj::Promise<FixtureBuildLock> FixtureBuilder::lock_again(const std::string& key, const FixtureFile& fixture) {
  if (auto held = cache_.try_lock(key, FixtureKind::vm, holder_name(fixture))) return kj::mv(*held);
  return io_.provider->getTimer().afterDelay(kLockPoll).then([this, key, fixture]() {
    return lock_again(key, fixture);
  });
}

kj::Promise<ProvidedFixture> FixtureBuilder::build(const FixtureFile& fixture, const std::string& key,
                                                  FixtureBuildLock held) {
  notes_ << fmt::format("provium: building fixture `{}` ({})\n", fixture.name, fixture.path.string());
  emit(services_.events, events::fixture_build_started(fixture.name));
  const auto started = std::chrono::steady_clock::now();
  TestFile file{.absolute = fixture.path, .display = fixture.path.string(), .root_relative = fixture.name};
  auto run = kj::heap<FileRun>(io_, services_, settings_, file, this, true);
  FileRun& running = *run;
  return running.run()
      .then([this, &running, fixture, key, started, held = kj::mv(held)](FileResult result) mutable -> ProvidedFixture {
        const std::string failed = fmt::format("fixture `{}` ({}) failed to build: ", fixture.name,
                                               fixture.path.string());
        if (result.chunk_error) throw_kj_error(failed + *result.chunk_error);
        if (result.error) throw_kj_error(failed + *result.error);
        if (!result.fixture_snapshot) {
          throw_kj_error(failed + "its chunk returned no snapshot; a fixture ends with `return vm:snapshot()` or " +
                         "`return provium:snapshot()`");
        }
        fs::path staged;
        try {
          const FixtureKind kind = running.fixture_snapshot_kind(*result.fixture_snapshot);
          staged = cache_.staging_path(key, kind);
          running.claim_fixture_snapshot(*result.fixture_snapshot, kind, staged);
          check_entry(staged, kind);
          fs::path entry = cache_.install(key, kind, staged);
          cache_.mark_used(entry);
          emit(services_.events, events::fixture_build_done(fixture.name, std::chrono::steady_clock::now() - started,
                                                            allocated_bytes(entry)));
          return ProvidedFixture{fixture.name, entry, false};
        } catch (const std::exception& error) {
          std::error_code ignored;
          if (!staged.empty()) fs::remove_all(staged, ignored);
          throw_kj_error(failed + error.what());
        }
      })
      .attach(kj::mv(run));
}

}  // namespace provium
