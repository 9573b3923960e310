#include "user_paths.h"

#include <cstdlib>

#include <unistd.h>

namespace provium {

std::filesystem::path expand_home(const std::string& path) {
  const char* home = std::getenv("HOME");
  if (home && *home && (path == "~" || path.rfind("~/", 0) == 0)) return std::string(home) + path.substr(1);
  return path;
}

std::filesystem::path provium_cache_root() {
  const char* home = std::getenv("HOME");
  if (home && *home) return std::filesystem::path(home) / ".cache" / "provium";
  return std::filesystem::path("/tmp") / ("provium-cache-" + std::to_string(::getuid()));
}

std::filesystem::path default_cache_dir() { return provium_cache_root() / "fixtures"; }

std::filesystem::path default_snapshot_dir() { return provium_cache_root() / "snapshots"; }

}  // namespace provium
