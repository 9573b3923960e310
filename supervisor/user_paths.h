// Per-user locations: `~` expansion and the cache directories.
#pragma once

#include <filesystem>
#include <string>

namespace provium {

// "~/x" -> "$HOME/x"; anything else unchanged.
std::filesystem::path expand_home(const std::string& path);
// ~/.cache/provium (or /tmp/provium-cache-<uid> without $HOME).
std::filesystem::path provium_cache_root();
// Where fixtures go unless [provium] cache_dir says otherwise.
std::filesystem::path default_cache_dir();
// Where snapshots go unless [provium] snapshot_dir says otherwise.
std::filesystem::path default_snapshot_dir();

}  // namespace provium
