#include "discovery.h"

#include <algorithm>
#include <set>
#include <system_error>

#include <fmt/format.h>

namespace provium {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSuffix = ".test.lua";

bool is_test_file_name(const std::string& name) {
  return name.size() > kSuffix.size() && name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

bool is_hidden(const fs::path& path) {
  const std::string name = path.filename().string();
  return name.size() > 1 && name[0] == '.' && name != "..";
}

// Every *.test.lua under `root`, as absolute paths.
std::vector<fs::path> walk(const fs::path& root) {
  std::vector<fs::path> found;
  std::error_code error;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, error);
  if (error) throw DiscoveryError(fmt::format("cannot read {}: {}", root.string(), error.message()));
  for (; it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (error) throw DiscoveryError(fmt::format("cannot read {}: {}", it->path().string(), error.message()));
    if (it->is_directory(error)) {
      if (is_hidden(it->path())) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(error) && is_test_file_name(it->path().filename().string())) found.push_back(it->path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

std::string display_path(const fs::path& path, const fs::path& cwd) {
  const fs::path absolute = fs::absolute(path).lexically_normal();
  const fs::path relative = absolute.lexically_relative(cwd.lexically_normal());
  if (!relative.empty() && *relative.begin() != "..") return relative.string();
  return absolute.string();
}

std::vector<TestFile> discover_test_files(const std::vector<fs::path>& paths, const std::string& filter,
                                          const fs::path& cwd) {
  std::vector<TestFile> files;
  std::set<fs::path> seen;
  for (const auto& given : paths) {
    const fs::path path = (given.is_absolute() ? given : cwd / given).lexically_normal();
    std::error_code error;
    const auto status = fs::status(path, error);
    if (!fs::exists(status)) throw DiscoveryError(fmt::format("{}: no such file or directory", given.string()));
    const bool single_file = !fs::is_directory(status);
    const fs::path root = single_file ? path.parent_path() : path;
    for (const auto& file : single_file ? std::vector<fs::path>{path} : walk(path)) {
      const fs::path canonical = fs::weakly_canonical(file, error);
      if (!seen.insert(error ? file : canonical).second) continue;
      TestFile test{file, display_path(file, cwd), file.lexically_relative(root).string()};
      if (!filter.empty() && test.root_relative.find(filter) == std::string::npos) continue;
      files.push_back(std::move(test));
    }
  }
  return files;
}

}  // namespace provium
