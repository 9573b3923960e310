// Finds the test files to run: every `*.test.lua` under the given paths
// (sorted, hidden directories skipped); a file path runs just that file.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace provium {

struct TestFile {
  std::filesystem::path absolute;
  std::string display;        // relative to the cwd when under it, e.g. tests/smoke.test.lua
  std::string root_relative;  // relative to the directory it was found under; what --filter matches
};

class DiscoveryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Relative to `cwd` when `path` is under it, else absolute.
std::string display_path(const std::filesystem::path& path, const std::filesystem::path& cwd);

// Throws DiscoveryError for a path that does not exist. A file found through
// two overlapping paths is listed once.
std::vector<TestFile> discover_test_files(const std::vector<std::filesystem::path>& paths, const std::string& filter,
                                          const std::filesystem::path& cwd);

}  // namespace provium
