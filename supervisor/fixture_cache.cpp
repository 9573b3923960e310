#include "fixture_cache.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace provium {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kStagingPrefix = ".staging-";

const char* suffix(FixtureKind kind) { return kind == FixtureKind::vm ? ".snap" : ".lab"; }

bool is_key(std::string_view text) {
  return text.size() == 64 &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Disk usage of a file or a directory tree, without following symlinks.
std::uint64_t allocated_bytes(const fs::path& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return 0;
  std::uint64_t total = static_cast<std::uint64_t>(info.st_blocks) * 512;
  if (S_ISDIR(info.st_mode)) {
    std::error_code error;
    for (const auto& child : fs::directory_iterator(path, error)) total += allocated_bytes(child.path());
  }
  return total;
}

std::chrono::system_clock::time_point access_time(const fs::path& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return {};
  return std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::seconds(info.st_atim.tv_sec) + std::chrono::nanoseconds(info.st_atim.tv_nsec)));
}

// "<key>.snap" / "<key>.lab" -> the entry; anything else -> nullopt.
std::optional<std::pair<std::string, FixtureKind>> parse_entry_name(const std::string& name) {
  for (FixtureKind kind : {FixtureKind::vm, FixtureKind::lab}) {
    const std::string tail = suffix(kind);
    if (name.size() == 64 + tail.size() && name.ends_with(tail) && is_key(name.substr(0, 64))) {
      return std::make_pair(name.substr(0, 64), kind);
    }
  }
  return std::nullopt;
}

}  // namespace

const char* fixture_kind_name(FixtureKind kind) { return kind == FixtureKind::vm ? "vm" : "lab"; }

FixtureCache::FixtureCache(fs::path dir) : dir_(std::move(dir)) {}

void FixtureCache::ensure_dir() const {
  std::error_code error;
  fs::create_directories(dir_, error);
  if (error) throw std::system_error(error, "fixture cache directory " + dir_.string());
}

fs::path FixtureCache::entry_path(const std::string& key, FixtureKind kind) const {
  if (!is_key(key)) throw std::invalid_argument("fixture cache: `" + key + "` is not a cache key");
  return dir_ / (key + suffix(kind));
}

fs::path FixtureCache::lock_path(const std::string& key, FixtureKind kind) const {
  return fs::path(entry_path(key, kind).string() + ".lock");
}

std::optional<FixtureBuildLock> FixtureCache::try_lock(const std::string& key, FixtureKind kind,
                                                      const std::string& holder) const {
  ensure_dir();
  return FixtureBuildLock::try_acquire(lock_path(key, kind), holder);
}

FixtureBuildLock FixtureCache::lock(const std::string& key, FixtureKind kind, const std::string& holder,
                                    const std::function<void(const std::string& held_by)>& on_wait) const {
  ensure_dir();
  return FixtureBuildLock::acquire(lock_path(key, kind), holder, on_wait);
}

std::optional<fs::path> FixtureCache::find(const std::string& key, FixtureKind kind) const {
  fs::path path = entry_path(key, kind);
  std::error_code error;
  const auto status = fs::symlink_status(path, error);
  const bool right_type = kind == FixtureKind::vm ? fs::is_regular_file(status) : fs::is_directory(status);
  if (error || !right_type) return std::nullopt;
  return path;
}

void FixtureCache::mark_used(const fs::path& entry) const {
  // Only the access time moves; relatime alone would let every atime collapse together.
  const struct timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_NOW}, {.tv_sec = 0, .tv_nsec = UTIME_OMIT}};
  ::utimensat(AT_FDCWD, entry.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

fs::path FixtureCache::staging_path(const std::string& key, FixtureKind kind) const {
  ensure_dir();
  static std::atomic<unsigned> counter{0};
  const fs::path entry = entry_path(key, kind);
  return dir_ / (std::string(kStagingPrefix) + entry.filename().string() + "." + std::to_string(::getpid()) + "." +
                 std::to_string(counter++));
}

fs::path FixtureCache::install(const std::string& key, FixtureKind kind, const fs::path& staged) const {
  const fs::path entry = entry_path(key, kind);
  if (kind == FixtureKind::vm) {
    if (::rename(staged.c_str(), entry.c_str()) != 0) {
      throw std::system_error(errno, std::generic_category(), "fixture cache: installing " + entry.string());
    }
    return entry;
  }
  // A directory cannot be renamed over a non-empty one: swap them, then
  // remove the old one. Readers see one whole directory at every moment.
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, entry.c_str(), RENAME_NOREPLACE) == 0) return entry;
  if (errno == EEXIST &&
      ::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, entry.c_str(), RENAME_EXCHANGE) == 0) {
    std::error_code ignored;
    fs::remove_all(staged, ignored);  // now the old entry
    return entry;
  }
  throw std::system_error(errno, std::generic_category(), "fixture cache: installing " + entry.string());
}

void FixtureCache::evict(const std::string& key, FixtureKind kind) const {
  std::error_code error;
  fs::remove_all(entry_path(key, kind), error);
  if (error) throw std::system_error(error, "fixture cache: evicting " + entry_path(key, kind).string());
}

std::vector<FixtureEntry> FixtureCache::entries() const {
  std::vector<FixtureEntry> found;
  std::error_code error;
  for (const auto& item : fs::directory_iterator(dir_, error)) {
    const auto parsed = parse_entry_name(item.path().filename().string());
    if (!parsed) continue;
    found.push_back(FixtureEntry{
        .key = parsed->first,
        .kind = parsed->second,
        .path = item.path(),
        .disk_bytes = allocated_bytes(item.path()),
        .last_used = access_time(item.path()),
    });
  }
  std::sort(found.begin(), found.end(), [](const FixtureEntry& a, const FixtureEntry& b) {
    return a.last_used != b.last_used ? a.last_used < b.last_used : a.key < b.key;
  });
  return found;
}

std::uint64_t FixtureCache::total_bytes() const {
  std::uint64_t total = 0;
  for (const FixtureEntry& entry : entries()) total += entry.disk_bytes;
  return total;
}

std::vector<FixtureEntry> FixtureCache::evict_to(std::uint64_t max_bytes) const {
  std::vector<FixtureEntry> all = entries();  // oldest first
  std::uint64_t total = 0;
  for (const FixtureEntry& entry : all) total += entry.disk_bytes;
  std::vector<FixtureEntry> evicted;
  for (const FixtureEntry& entry : all) {
    if (total <= max_bytes) break;
    // A held lock means a peer is rebuilding or restoring around this key.
    auto lock = try_lock(entry.key, entry.kind, "evicting");
    if (!lock) continue;
    std::error_code error;
    fs::remove_all(entry.path, error);
    if (error) continue;
    total -= entry.disk_bytes;
    evicted.push_back(entry);
  }
  return evicted;
}

void FixtureCache::remove_abandoned_staging() const {
  std::error_code error;
  for (const auto& item : fs::directory_iterator(dir_, error)) {
    const std::string name = item.path().filename().string();
    if (!name.starts_with(kStagingPrefix)) continue;
    // ".staging-<key><suffix>.<pid>.<n>": the entry's lock tells whether its build is alive.
    const std::string rest = name.substr(kStagingPrefix.size());
    const auto parsed = parse_entry_name(rest.substr(0, rest.find('.', 65)));
    if (!parsed) continue;
    auto lock = try_lock(parsed->first, parsed->second, "cleaning up");
    if (!lock) continue;
    std::error_code ignored;
    fs::remove_all(item.path(), ignored);
  }
}

void FixtureCache::clean() const {
  std::error_code error;
  for (const auto& item : fs::directory_iterator(dir_, error)) {
    const std::string name = item.path().filename().string();
    const bool ours = parse_entry_name(name).has_value() || name.starts_with(kStagingPrefix) ||
                      (name.ends_with(".lock") && parse_entry_name(name.substr(0, name.size() - 5)).has_value());
    if (!ours) continue;  // never delete what the cache did not make
    std::error_code removal;
    fs::remove_all(item.path(), removal);
    if (removal) throw std::system_error(removal, "fixture cache: removing " + item.path().string());
  }
}

}  // namespace provium
