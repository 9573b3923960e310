// `require(name)` from a test file, resolved by the supervisor because the
// runner cannot read the filesystem. The name comes from hostile code: only
// [A-Za-z0-9_./-], no "..", no absolute names, and the real path of the file
// found must stay inside the root it was found under (no symlinks out).
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace provium {

inline constexpr std::size_t kMaxModuleNameLength = 200;
inline constexpr std::size_t kMaxModuleBytes = 4 * 1024 * 1024;

class ModuleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ResolvedModule {
  std::filesystem::path path;
  std::string source;
};

// Tries <root>/<name>.lua then <root>/<name>/init.lua for each root in order
// (dots in the name become directory separators). Throws ModuleError naming
// the module and every place searched.
ResolvedModule resolve_module(const std::string& name, const std::vector<std::filesystem::path>& roots,
                              std::size_t max_bytes = kMaxModuleBytes);

}  // namespace provium
