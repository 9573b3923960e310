// provium.toml, validated. Paths are absolute (relative ones in the file are
// taken relative to the file's directory).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace provium {

inline constexpr std::uint64_t kMiB = 1024 * 1024;
inline constexpr std::uint64_t kGiB = 1024 * kMiB;
inline constexpr std::uint64_t kMinVmMemory = 64 * kMiB;
inline constexpr std::uint64_t kMaxVmMemory = 16 * kGiB;

struct Profile {
  std::string name;
  std::filesystem::path kernel;
  std::filesystem::path initrd;
  std::string cmdline;
  std::string guest_os = "linux";
  bool inject_agent = true;
  std::optional<std::filesystem::path> agent_overlay;  // agent_overlay_path
  std::uint64_t memory_bytes = 256 * kMiB;
  std::uint32_t cpus = 1;
  // Set for the built-in `default` profile when the bundled guest is missing;
  // creating a VM from it reports this instead of booting.
  std::optional<std::string> unavailable;
};

struct Config {
  std::optional<std::filesystem::path> file;  // unset: no provium.toml was read
  std::vector<std::filesystem::path> roots;
  std::filesystem::path cache_dir;
  // Where vm:snapshot() writes: the only directory a test may name (docs/snapshots.md).
  std::filesystem::path snapshot_dir;
  std::uint64_t cache_max_size = 20 * kGiB;
  std::map<std::string, Profile> profiles;

  const Profile* find_profile(const std::string& name) const;
  std::string profile_names() const;  // "a, b, default", for error messages
};

}  // namespace provium
