// What a test file's session asks of the run for `provium:vm_fixture` and
// `provium:lab_fixture`: the
// cache entry of a fixture, built first when the cache does not have it.
// fixture_builder.h implements it; the interface keeps the session (which a
// fixture build itself runs) from depending on the builder.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <kj/async.h>

#include "fixture_cache.h"

namespace provium {

// A fixture's cache entry, and whether it was there already (a cache hit)
// rather than built for this request.
struct ProvidedFixture {
  std::string name;  // as the roots name it, without .fixture.lua
  std::filesystem::path entry;
  bool from_cache = false;
};

class FixtureProvider {
 public:
  virtual ~FixtureProvider() = default;
  // Resolves `name` under `roots`, then resolves with its cache entry: a
  // snapshot file (FixtureKind::vm) or a lab snapshot directory
  // (FixtureKind::lab). Rejects naming the fixture and what failed: not
  // found, its chunk failed, it returned the other kind or something else,
  // a cycle.
  virtual kj::Promise<ProvidedFixture> fixture(const std::string& name,
                                               const std::vector<std::filesystem::path>& roots,
                                               FixtureKind kind) = 0;
};

}  // namespace provium
