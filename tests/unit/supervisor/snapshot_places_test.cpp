#include "snapshot_places.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "temp_dir.h"

namespace provium {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const SnapshotPathError& error) {
    return error.what();
  }
  return "";
}

TEST(SnapshotPlaces, RelativePathsLandInsideTheSnapshotDir) {
  TempDir dir;
  SnapshotPlaces places(dir.path() / "snaps", "file");
  PendingSnapshot pending = places.create("one.snap", "a");
  EXPECT_EQ(pending.path(), fs::canonical(dir.path() / "snaps") / "one.snap");
  pending.commit();
  EXPECT_TRUE(fs::exists(dir.path() / "snaps" / "one.snap"));
}

TEST(SnapshotPlaces, AnUncommittedSnapshotLeavesNothing) {
  TempDir dir;
  SnapshotPlaces places(dir.path(), "file");
  { PendingSnapshot pending = places.create("two.snap", "a"); }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(SnapshotPlaces, RefusesPathsThatLeaveTheSnapshotDir) {
  TempDir dir;
  fs::create_directories(dir.path() / "snaps");
  fs::create_directories(dir.path() / "elsewhere");
  fs::create_symlink(dir.path() / "elsewhere", dir.path() / "snaps" / "link");
  SnapshotPlaces places(dir.path() / "snaps", "file");
  EXPECT_NE(error_of([&] { places.create("../x.snap", "a"); }).find("outside snapshot_dir"), std::string::npos);
  EXPECT_NE(error_of([&] { places.create("/etc/x.snap", "a"); }).find("outside snapshot_dir"), std::string::npos);
  EXPECT_NE(error_of([&] { places.create("link/x.snap", "a"); }).find("outside snapshot_dir"), std::string::npos);
  EXPECT_NE(error_of([&] { places.open_existing("/etc/passwd"); }).find("outside snapshot_dir"), std::string::npos);
  EXPECT_TRUE(fs::is_empty(dir.path() / "elsewhere"));
}

TEST(SnapshotPlaces, RefusesToReadThroughASymbolicLink) {
  TempDir dir;
  fs::create_directories(dir.path() / "snaps");
  const auto target = dir.write("secret", "x");
  fs::create_symlink(target, dir.path() / "snaps" / "s.snap");
  SnapshotPlaces places(dir.path() / "snaps", "file");
  EXPECT_NE(error_of([&] { places.open_existing("s.snap"); }).find("symbolic link"), std::string::npos);
}

TEST(SnapshotPlaces, UnnamedSnapshotsGoToAScratchDirectoryRemovedWithThePlaces) {
  TempDir dir;
  fs::path scratch;
  {
    SnapshotPlaces places(dir.path(), "file");
    PendingSnapshot pending = places.create("", "vm1");
    pending.commit();
    scratch = pending.path().parent_path();
    EXPECT_TRUE(fs::exists(pending.path()));
    EXPECT_NE(scratch, fs::canonical(dir.path()));
  }
  EXPECT_FALSE(fs::exists(scratch));
}

TEST(SnapshotPlaces, RemovesOnlyTheScratchOfProcessesThatAreGone) {
  TempDir dir;
  const fs::path dead = dir.path() / ".scratch-file-2147483646-0";
  const fs::path alive = dir.path() / fmt::format(".scratch-file-{}-0", ::getpid());
  const fs::path partial = dir.path() / ".a.snap.partial-2147483646-0";
  fs::create_directories(dead);
  fs::create_directories(alive);
  dir.write(".a.snap.partial-2147483646-0", "half");
  dir.write("kept.snap", "a user's snapshot");
  SnapshotPlaces::remove_abandoned(dir.path());
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_FALSE(fs::exists(partial));
  EXPECT_TRUE(fs::exists(alive));
  EXPECT_TRUE(fs::exists(dir.path() / "kept.snap"));
}

}  // namespace
}  // namespace provium
