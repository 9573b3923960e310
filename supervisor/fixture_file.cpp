#include "fixture_file.h"

#include <fmt/format.h>

namespace provium {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxNameLength = 200;

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength || name.front() == '/') return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '/' && c != '-') return false;
  }
  for (const auto& part : fs::path(name)) {
    if (part == ".." || part == ".") return false;
  }
  return true;
}

bool inside(const fs::path& path, const fs::path& root) {
  const fs::path relative = path.lexically_relative(root);
  return !relative.empty() && *relative.begin() != "..";
}

}  // namespace

FixtureFile resolve_fixture(const std::string& name, const std::vector<fs::path>& roots) {
  if (!valid_name(name)) {
    throw FixtureError(fmt::format("fixture `{}`: a fixture name is a path under the test roots without the "
                                   "`.fixture.lua` suffix, using [A-Za-z0-9_./-] and no `..`",
                                   name.substr(0, 80)));
  }
  std::string searched;
  for (const fs::path& root : roots) {
    std::error_code error;
    const fs::path real_root = fs::canonical(root, error);
    if (error) continue;
    const fs::path candidate = real_root / (name + ".fixture.lua");
    searched += "\n  " + candidate.string();
    const fs::path real = fs::canonical(candidate, error);
    if (error || !fs::is_regular_file(real, error)) continue;
    if (!inside(real, real_root)) {
      throw FixtureError(fmt::format("fixture `{}`: {} leads outside its root {}", name, candidate.string(),
                                     real_root.string()));
    }
    return FixtureFile{.name = name, .path = real, .root = real_root};
  }
  throw FixtureError(fmt::format("fixture `{}` not found; looked for:{}", name, searched));
}

std::vector<fs::path> fixture_module_roots(const FixtureFile& fixture, const std::vector<fs::path>& roots) {
  std::vector<fs::path> result{fixture.path.parent_path()};
  for (const fs::path& root : roots) {
    if (root != result.front()) result.push_back(root);
  }
  return result;
}

}  // namespace provium
