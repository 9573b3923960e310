// Finding a fixture by the name a test gives it: `provium:vm_fixture("setups/base")`
// is setups/base.fixture.lua under the first of the file's roots that has it.
// The name comes from hostile code, so it follows the rules of module names
// ([A-Za-z0-9_./-], no "..", not absolute) and the real path must stay inside
// the root it was found under.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace provium {

class FixtureError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct FixtureFile {
  std::string name;             // as written: "setups/base"
  std::filesystem::path path;   // real path of the .fixture.lua
  std::filesystem::path root;   // the root it was found under
};

// Throws FixtureError naming the fixture and every place searched.
FixtureFile resolve_fixture(const std::string& name, const std::vector<std::filesystem::path>& roots);

// The module roots a fixture's own chunk runs with: its directory first, then `roots`.
std::vector<std::filesystem::path> fixture_module_roots(const FixtureFile& fixture,
                                                        const std::vector<std::filesystem::path>& roots);

}  // namespace provium
