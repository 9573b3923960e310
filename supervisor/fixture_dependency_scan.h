// Finds the host files a fixture depends on by reading its source: every
// `push_file("<literal>", ...)` (unless the call says `auto_dep = false`
// literally) and every `depends_on_file("<literal>")`. Only literal strings
// count; a path built at run time cannot be known without running the chunk,
// which is what the docs tell users (declare it with depends_on_file).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace provium {

struct ScannedDependency {
  std::string path;  // as written (relative paths resolve against the file's directory)
  int line = 0;
};

std::vector<ScannedDependency> scan_fixture_dependencies(std::string_view lua_source);

// What else a fixture's key depends on, read the same way (literals only):
// `require("m")` / `require "m"`, and nested `vm_fixture("f")` /
// `lab_fixture("f")` called with `:` or `.`.
struct ScannedUses {
  std::vector<ScannedDependency> modules;
  std::vector<ScannedDependency> fixtures;
};
ScannedUses scan_fixture_uses(std::string_view lua_source);

}  // namespace provium
