#include "module_resolver.h"

#include <system_error>

#include <fmt/format.h>

#include "file_io.h"

namespace provium {
namespace {

namespace fs = std::filesystem;

bool allowed_character(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '/' || c == '-';
}

// "helpers.net" -> "helpers/net"; refuses anything that could leave a root.
std::string module_relative_path(const std::string& name) {
  if (name.empty()) throw ModuleError("require: empty module name");
  if (name.size() > kMaxModuleNameLength) {
    throw ModuleError(fmt::format("require: module name is {} bytes; the limit is {}", name.size(), kMaxModuleNameLength));
  }
  for (const char c : name) {
    if (!allowed_character(c)) {
      // The name is not echoed: it may hold control characters.
      throw ModuleError("require: module names may only use letters, digits, '_', '-', '.' and '/'");
    }
  }
  if (name.find("..") != std::string::npos) throw ModuleError(fmt::format("require `{}`: `..` is not allowed", name));
  std::string relative = name;
  for (char& c : relative) {
    if (c == '.') c = '/';
  }
  if (relative.front() == '/' || relative.back() == '/' || relative.find("//") != std::string::npos) {
    throw ModuleError(fmt::format("require `{}`: not a relative module name", name));
  }
  return relative;
}

bool inside(const fs::path& path, const fs::path& root) {
  const fs::path relative = path.lexically_relative(root);
  return !relative.empty() && *relative.begin() != ".." && relative != ".";
}

}  // namespace

ResolvedModule resolve_module(const std::string& name, const std::vector<fs::path>& roots, std::size_t max_bytes) {
  const std::string relative = module_relative_path(name);
  std::string searched;
  for (const auto& root : roots) {
    std::error_code error;
    const fs::path real_root = fs::canonical(root, error);
    if (error) continue;
    for (const fs::path& candidate : {root / (relative + ".lua"), root / relative / "init.lua"}) {
      searched += fmt::format("\n\t{}", candidate.string());
      const fs::path real = fs::canonical(candidate, error);
      if (error || !fs::is_regular_file(real, error)) continue;
      if (!inside(real, real_root)) {
        throw ModuleError(fmt::format("require `{}`: {} resolves to {}, outside the root {}", name, candidate.string(),
                                      real.string(), real_root.string()));
      }
      try {
        return {candidate, read_file_capped(real, max_bytes)};
      } catch (const std::runtime_error& read_error) {
        throw ModuleError(fmt::format("require `{}`: {}", name, read_error.what()));
      }
    }
  }
  throw ModuleError(fmt::format("module `{}` not found; searched:{}", name, searched.empty() ? " (no roots)" : searched));
}

}  // namespace provium
