// Gets fixtures into the cache (fixture_cache.h): computes a fixture's key,
// returns the installed entry when there is one, else takes the key's build
// lock (waiting, without blocking the event loop, while another provium
// process builds it), runs the fixture file in its own sandboxed runner
// (a FileRun in fixture mode), checks the snapshot its chunk returned, and
// installs it. One per run; fixture builds nest (a fixture may use another).
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <kj/async-io.h>

#include "fixture_cache.h"
#include "fixture_keyer.h"
#include "fixture_provider.h"
#include "vm_services.h"

namespace provium {

struct FileRunSettings;

class FixtureBuilder final : public FixtureProvider {
 public:
  // `settings` must outlive the builder; `notes` gets one line per build
  // ("building fixture ...", "waiting for ...").
  FixtureBuilder(kj::AsyncIoContext& io, const VmServices& services, const FileRunSettings& settings,
                 std::ostream& notes);

  kj::Promise<ProvidedFixture> fixture(const std::string& name,
                                             const std::vector<std::filesystem::path>& roots,
                                             FixtureKind kind) override;
  // The entry for `fixture`, built when missing (or always, with `rebuild`).
  // Builds, and waits for another builder's lock, emit fixture events.
  kj::Promise<ProvidedFixture> ensure(const FixtureFile& fixture, bool rebuild);
  // Whether `fixture`'s current key has an entry (`provium fixture stale`).
  bool is_cached(const FixtureFile& fixture);
  FixtureCache& cache() { return cache_; }

 private:
  // The key's entry of either kind: a fixture's chunk decides which.
  std::optional<std::filesystem::path> find_entry(const std::string& key) const;
  kj::Promise<FixtureBuildLock> lock(const std::string& key, const FixtureFile& fixture);
  kj::Promise<FixtureBuildLock> lock_again(const std::string& key, const FixtureFile& fixture);
  kj::Promise<ProvidedFixture> build(const FixtureFile& fixture, const std::string& key,
                                           FixtureBuildLock held);

  kj::AsyncIoContext& io_;
  const VmServices& services_;
  const FileRunSettings& settings_;
  std::ostream& notes_;
  FixtureCache cache_;
  FixtureKeyer keyer_;
};

}  // namespace provium
