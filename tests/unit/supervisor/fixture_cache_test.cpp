// The fixture cache store on a real directory: install, lookup, LRU eviction,
// locks across processes, and what a build that dies leaves behind.
#include "fixture_cache.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace provium {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string key_of(char digit) { return std::string(64, digit); }

class FixtureCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "provium-fixture-cache-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    cache_.emplace(root_ / "fixtures");
  }
  void TearDown() override { fs::remove_all(root_); }

  // Builds a VM entry of `bytes` (really written, so it takes disk blocks).
  fs::path build_vm_entry(const std::string& key, std::size_t bytes) {
    const fs::path staged = cache_->staging_path(key, FixtureKind::vm);
    std::ofstream(staged, std::ios::binary) << std::string(bytes, 'x');
    return cache_->install(key, FixtureKind::vm, staged);
  }

  void set_atime(const fs::path& path, std::time_t seconds) {
    const struct timespec times[2] = {{.tv_sec = seconds, .tv_nsec = 0}, {.tv_sec = 0, .tv_nsec = UTIME_OMIT}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  }

  fs::path root_;
  std::optional<FixtureCache> cache_;
};

TEST_F(FixtureCacheTest, InstallsAndFindsEntriesOfBothKinds) {
  const std::string key = key_of('a');
  EXPECT_FALSE(cache_->find(key, FixtureKind::vm));
  const fs::path vm = build_vm_entry(key, 4096);
  EXPECT_EQ(vm, root_ / "fixtures" / (key + ".snap"));
  EXPECT_EQ(cache_->find(key, FixtureKind::vm), vm);
  EXPECT_FALSE(cache_->find(key, FixtureKind::lab)) << "a .snap is not a lab";

  const fs::path staged_lab = cache_->staging_path(key, FixtureKind::lab);
  fs::create_directory(staged_lab);
  std::ofstream(staged_lab / "lab.json") << "{}";
  const fs::path lab = cache_->install(key, FixtureKind::lab, staged_lab);
  EXPECT_TRUE(fs::exists(lab / "lab.json"));

  const auto entries = cache_->entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_GE(entries[0].disk_bytes + entries[1].disk_bytes, 4096u);
}

TEST_F(FixtureCacheTest, ReinstallingALabSwapsItWhole) {
  const std::string key = key_of('b');
  for (const char* version : {"old", "new"}) {
    const fs::path staged = cache_->staging_path(key, FixtureKind::lab);
    fs::create_directory(staged);
    std::ofstream(staged / "lab.json") << version;
    std::ofstream(staged / (std::string(version) + ".snap")) << version;
    cache_->install(key, FixtureKind::lab, staged);
  }
  const fs::path lab = *cache_->find(key, FixtureKind::lab);
  std::ifstream index(lab / "lab.json");
  std::string content((std::istreambuf_iterator<char>(index)), {});
  EXPECT_EQ(content, "new");
  EXPECT_FALSE(fs::exists(lab / "old.snap")) << "the old directory's files must not mix in";
  // No staging path is left: the swapped-out old entry was removed.
  for (const auto& item : fs::directory_iterator(cache_->dir())) {
    EXPECT_FALSE(item.path().filename().string().starts_with(".staging-")) << item.path();
  }
}

TEST_F(FixtureCacheTest, RejectsKeysThatAreNotHexDigests) {
  EXPECT_THROW(cache_->entry_path("../../etc/passwd", FixtureKind::vm), std::invalid_argument);
  EXPECT_THROW(cache_->entry_path(std::string(64, 'G'), FixtureKind::vm), std::invalid_argument);
  EXPECT_THROW(cache_->entry_path("abc", FixtureKind::lab), std::invalid_argument);
}

TEST_F(FixtureCacheTest, EvictsLeastRecentlyUsedFirstDownToTheLimit) {
  const fs::path oldest = build_vm_entry(key_of('1'), 64 << 10);
  const fs::path middle = build_vm_entry(key_of('2'), 64 << 10);
  const fs::path newest = build_vm_entry(key_of('3'), 64 << 10);
  set_atime(oldest, 1'000'000);
  set_atime(middle, 2'000'000);
  set_atime(newest, 3'000'000);
  cache_->mark_used(oldest);  // a restore makes the oldest the most recent

  const std::uint64_t one = cache_->entries()[0].disk_bytes;
  const auto evicted = cache_->evict_to(2 * one);
  ASSERT_EQ(evicted.size(), 1u);
  EXPECT_EQ(evicted[0].key, key_of('2'));
  EXPECT_TRUE(fs::exists(oldest));
  EXPECT_FALSE(fs::exists(middle));
  EXPECT_TRUE(fs::exists(newest));
  EXPECT_LE(cache_->total_bytes(), 2 * one);
}

TEST_F(FixtureCacheTest, EvictionKeepsEntriesWhoseLockIsHeld) {
  const fs::path busy = build_vm_entry(key_of('4'), 64 << 10);
  set_atime(busy, 1'000'000);
  auto lock = cache_->try_lock(key_of('4'), FixtureKind::vm, "test");
  ASSERT_TRUE(lock);
  EXPECT_TRUE(cache_->evict_to(0).empty());
  EXPECT_TRUE(fs::exists(busy));
}

// A child process holds the build lock; the parent waits, learns who holds
// it, and gets it when the holder dies without unlocking.
TEST_F(FixtureCacheTest, LockWaitsForAPeerAndSurvivesItsDeath) {
  const fs::path lock_path = cache_->lock_path(key_of('5'), FixtureKind::vm);
  fs::create_directories(cache_->dir());
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t holder = ::fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {
    auto lock = FixtureBuildLock::try_acquire(lock_path, "peer.test.lua (pid " + std::to_string(::getpid()) + ")");
    char c = lock ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    ::pause();  // killed while holding the lock
    ::_exit(0);
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(c, 'y');

  EXPECT_FALSE(FixtureBuildLock::try_acquire(lock_path, "me"));
  std::string waited_for;
  std::thread killer;
  auto lock = FixtureBuildLock::acquire(lock_path, "me", [&](const std::string& held_by) {
    waited_for = held_by;
    killer = std::thread([holder] { ::kill(holder, SIGKILL); });
  });
  killer.join();
  int status = 0;
  ::waitpid(holder, &status, 0);
  EXPECT_EQ(waited_for, "peer.test.lua (pid " + std::to_string(holder) + ")");
  EXPECT_EQ(fixture_lock_holder(lock_path), "me");
}

// A build killed between staging and install leaves no entry, and its staging
// litter goes at the next start-up (but not while a live build owns it).
TEST_F(FixtureCacheTest, ABuildThatDiesLeavesNoEntry) {
  const std::string key = key_of('6');
  const pid_t builder = ::fork();
  ASSERT_GE(builder, 0);
  if (builder == 0) {
    auto lock = cache_->try_lock(key, FixtureKind::vm, "builder");
    std::ofstream(cache_->staging_path(key, FixtureKind::vm)) << "half a snapshot";
    ::raise(SIGKILL);
  }
  int status = 0;
  ::waitpid(builder, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(cache_->find(key, FixtureKind::vm));
  EXPECT_TRUE(cache_->entries().empty());

  auto live = cache_->try_lock(key_of('7'), FixtureKind::vm, "live build");
  const fs::path live_staging = cache_->staging_path(key_of('7'), FixtureKind::vm);
  std::ofstream(live_staging) << "in progress";

  cache_->remove_abandoned_staging();
  int staging_left = 0;
  for (const auto& item : fs::directory_iterator(cache_->dir())) {
    if (item.path().filename().string().starts_with(".staging-")) ++staging_left;
  }
  EXPECT_EQ(staging_left, 1);
  EXPECT_TRUE(fs::exists(live_staging));
}

TEST_F(FixtureCacheTest, CleanRemovesOnlyWhatTheCacheMade) {
  build_vm_entry(key_of('8'), 100);
  (void)cache_->try_lock(key_of('8'), FixtureKind::vm, "x");
  std::ofstream(cache_->dir() / "notes.txt") << "the user's";
  cache_->clean();
  EXPECT_TRUE(cache_->entries().empty());
  EXPECT_FALSE(fs::exists(cache_->lock_path(key_of('8'), FixtureKind::vm)));
  EXPECT_TRUE(fs::exists(cache_->dir() / "notes.txt"));
}

}  // namespace
}  // namespace provium
