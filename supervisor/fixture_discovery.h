// Every *.fixture.lua under the given paths (sorted per directory; a file path
// names just that fixture), each named relative to the directory it was found
// under, as `provium fixture build|rebuild|stale` and `provium list --fixtures`
// see them.
#pragma once

#include <filesystem>
#include <vector>

#include "fixture_file.h"

namespace provium {

struct FoundFixture {
  FixtureFile file;
  std::vector<std::filesystem::path> roots;  // the directory it was found under, then the module roots
};

// Throws FixtureError for a path that is neither a directory nor a *.fixture.lua file.
std::vector<FoundFixture> discover_fixtures(const std::vector<std::filesystem::path>& paths,
                                            const std::vector<std::filesystem::path>& module_roots);

}  // namespace provium
