// The fixture cache directory: one entry per key, `<key>.snap` (a VM
// snapshot file) or `<key>.lab/` (a directory of them), each with a sibling
// `<key>.<suffix>.lock` build lock. Builds write into a staging path inside
// the same directory and install with one rename, so a reader sees the old
// entry or the new one, never half of one; a build that dies leaves only
// staging litter, which the next start-up removes.
#pragma once

#include "fixture_build_lock.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace provium {

enum class FixtureKind { vm, lab };

const char* fixture_kind_name(FixtureKind kind);  // "vm" / "lab"

struct FixtureEntry {
  std::string key;
  FixtureKind kind = FixtureKind::vm;
  std::filesystem::path path;
  std::uint64_t disk_bytes = 0;  // allocated blocks: snapshots are sparse
  std::chrono::system_clock::time_point last_used;  // atime, bumped on every restore
};

class FixtureCache {
 public:
  explicit FixtureCache(std::filesystem::path dir);

  const std::filesystem::path& dir() const { return dir_; }

  // Throws std::invalid_argument unless `key` is 64 lowercase hex digits: keys
  // become file names.
  std::filesystem::path entry_path(const std::string& key, FixtureKind kind) const;
  std::filesystem::path lock_path(const std::string& key, FixtureKind kind) const;

  // The key's build lock (see fixture_build_lock.h); `holder` names this
  // process for waiters, e.g. "tests/a.test.lua (pid 123)".
  std::optional<FixtureBuildLock> try_lock(const std::string& key, FixtureKind kind, const std::string& holder) const;
  FixtureBuildLock lock(const std::string& key, FixtureKind kind, const std::string& holder,
                        const std::function<void(const std::string& held_by)>& on_wait) const;

  // The entry if it is installed; restoring from it should call mark_used.
  std::optional<std::filesystem::path> find(const std::string& key, FixtureKind kind) const;
  void mark_used(const std::filesystem::path& entry) const;

  // A fresh path in the cache directory to build an entry into.
  std::filesystem::path staging_path(const std::string& key, FixtureKind kind) const;
  // Moves a built entry into place atomically, replacing any old one.
  std::filesystem::path install(const std::string& key, FixtureKind kind, const std::filesystem::path& staged) const;

  // Removes one entry (a corrupt one, or for `fixture rebuild`). No error if absent.
  void evict(const std::string& key, FixtureKind kind) const;

  std::vector<FixtureEntry> entries() const;
  std::uint64_t total_bytes() const;

  // Least recently used entries go first until the total is at most
  // `max_bytes`; entries whose build lock is held are kept. Returns what went.
  std::vector<FixtureEntry> evict_to(std::uint64_t max_bytes) const;

  // Staging litter from builds that died (their lock is free).
  void remove_abandoned_staging() const;

  // Removes every entry, lock file and staging path (`provium fixture clean`).
  void clean() const;

 private:
  void ensure_dir() const;

  std::filesystem::path dir_;
};

}  // namespace provium
