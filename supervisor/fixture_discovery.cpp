#include "fixture_discovery.h"

#include <algorithm>
#include <string_view>

#include <fmt/format.h>

namespace provium {

std::vector<FoundFixture> discover_fixtures(const std::vector<std::filesystem::path>& paths,
                                            const std::vector<std::filesystem::path>& module_roots) {
  namespace fs = std::filesystem;
  constexpr std::string_view kSuffix = ".fixture.lua";
  std::vector<FoundFixture> found;
  auto add = [&](const fs::path& file, const fs::path& root) {
    std::string name = fs::relative(file, root).string();
    name.resize(name.size() - kSuffix.size());
    std::vector<fs::path> roots{root};
    roots.insert(roots.end(), module_roots.begin(), module_roots.end());
    found.push_back(FoundFixture{resolve_fixture(name, roots), roots});
  };
  auto is_fixture = [&](const fs::path& p) {
    const std::string text = p.filename().string();
    return text.size() > kSuffix.size() && text.compare(text.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
  };
  for (const fs::path& given : paths) {
    const fs::path path = fs::absolute(given);
    if (fs::is_regular_file(path) && is_fixture(path)) {
      add(path, path.parent_path());
      continue;
    }
    if (!fs::is_directory(path)) throw FixtureError(fmt::format("{}: no such directory or *.fixture.lua file", given.string()));
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(path)) {
      if (entry.is_regular_file() && is_fixture(entry.path())) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) add(file, path);
  }
  return found;
}

}  // namespace provium
