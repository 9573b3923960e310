#include "lab_snapshot_index.h"

#include <filesystem>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "snapshot_places.h"
#include "temp_dir.h"

namespace provium {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const std::exception& error) {
    return error.what();
  }
  return "";
}

LabIndex two_vms() {
  return LabIndex{.bridges = {"lan"},
                  .vms = {LabIndexVm{"a", "default", "vm-1.snap", false, {LabIndexNic{"lan", 0}}},
                          LabIndexVm{"b", "default", "", false, {}}}};
}

TEST(LabSnapshotIndex, WritesAndReadsBack) {
  TempDir dir;
  write_lab_index(dir.path(), two_vms());
  EXPECT_TRUE(fs::exists(dir.path() / "lab.json"));
  const LabIndex read = read_lab_index(dir.path());
  ASSERT_EQ(read.vms.size(), 2u);
  EXPECT_EQ(read.bridges, std::vector<std::string>{"lan"});
  EXPECT_EQ(read.vms[0].file, "vm-1.snap");
  ASSERT_EQ(read.vms[0].nics.size(), 1u);
  EXPECT_EQ(read.vms[0].nics[0].bridge, "lan");
  EXPECT_TRUE(read.vms[1].file.empty());
}

TEST(LabSnapshotIndex, RefusesFilesThatLeadOutOfTheDirectory) {
  for (const std::string bad : {"../x.snap", "/etc/passwd", ".hidden.snap", "a/b.snap", "lab.json"}) {
    LabIndex index = two_vms();
    index.vms[0].file = bad;
    EXPECT_NE(error_of([&] { check_lab_index(index); }).find("is not a snapshot file name"), std::string::npos)
        << bad;
  }
}

TEST(LabSnapshotIndex, RefusesUnknownBridgesBadSlotsAndDuplicates) {
  LabIndex index = two_vms();
  index.vms[0].nics[0].bridge = "wan";
  EXPECT_NE(error_of([&] { check_lab_index(index); }).find("bridge `wan` is not one of the lab's"), std::string::npos);
  index = two_vms();
  index.vms[0].nics[0].slot = 9;
  EXPECT_NE(error_of([&] { check_lab_index(index); }).find("NIC slot 9"), std::string::npos);
  index = two_vms();
  index.vms[1].name = "a";
  EXPECT_NE(error_of([&] { check_lab_index(index); }).find("VM `a` is listed twice"), std::string::npos);
  index = two_vms();
  index.vms[1].paused = true;
  EXPECT_NE(error_of([&] { check_lab_index(index); }).find("was not running"), std::string::npos);
}

TEST(LabSnapshotIndex, ADamagedIndexIsNamed) {
  TempDir dir;
  dir.write("lab.json", "{\"format\": 1, \"bridges\": [], \"vms\": [{\"name\": 3}]}");
  const std::string error = error_of([&] { read_lab_index(dir.path()); });
  EXPECT_NE(error.find("lab.json: damaged"), std::string::npos) << error;
  EXPECT_NE(error_of([&] { read_lab_index(dir.path() / "absent"); }).find("not a lab snapshot"), std::string::npos);
}

TEST(LabSnapshotIndex, CheckingNamesAMissingSnapshotFile) {
  TempDir dir;
  write_lab_index(dir.path(), two_vms());
  EXPECT_NE(error_of([&] { check_lab_snapshot(dir.path()); }).find("VM `a`'s snapshot vm-1.snap is missing"),
            std::string::npos);
}

TEST(LabSnapshotIndex, RemovalRefusesADirectoryHoldingOtherThings) {
  TempDir dir;
  const fs::path lab = dir.path() / "lab";
  fs::create_directory(lab);
  dir.write("lab/lab.json", "{}");
  dir.write("lab/vm-1.snap", "x");
  dir.write("lab/notes.txt", "mine");
  EXPECT_NE(error_of([&] { remove_lab_snapshot(lab); }).find("holds `notes.txt`"), std::string::npos);
  EXPECT_TRUE(fs::exists(lab / "vm-1.snap"));
  fs::remove(lab / "notes.txt");
  EXPECT_EQ(lab_snapshot_bytes(lab), 3u);
  remove_lab_snapshot(lab);
  EXPECT_FALSE(fs::exists(lab));
}

TEST(LabSnapshotIndex, UnlistedSnapshotFilesGo) {
  TempDir dir;
  dir.write("vm-1.snap", "kept");
  dir.write("vm-7.snap", "stale");
  remove_unlisted_snapshots(dir.path(), two_vms());
  EXPECT_TRUE(fs::exists(dir.path() / "vm-1.snap"));
  EXPECT_FALSE(fs::exists(dir.path() / "vm-7.snap"));
}

TEST(SnapshotPlaces, LabDirectoriesStayInsideTheSnapshotDirUnlessAllowedForReading) {
  TempDir dir;
  SnapshotPlaces places(dir.path() / "snaps", "file");
  const fs::path made = places.create_directory("lab-one");
  EXPECT_EQ(made, fs::canonical(dir.path() / "snaps") / "lab-one");
  EXPECT_EQ(places.create_directory("lab-one"), made);  // reused
  const fs::path scratch = places.create_directory("");
  EXPECT_TRUE(fs::is_directory(scratch));
  EXPECT_NE(error_of([&] { places.create_directory("/etc/x"); }).find("outside snapshot_dir"), std::string::npos);

  fs::create_directory(dir.path() / "cache");
  const fs::path entry = dir.path() / "cache" / "key.lab";
  fs::create_directory(entry);
  dir.write("cache/key.lab/vm-1.snap", "x");
  EXPECT_NE(error_of([&] { places.existing_directory(entry.string()); }).find("outside snapshot_dir"),
            std::string::npos);
  places.allow_reading(entry);
  EXPECT_EQ(places.existing_directory(entry.string()), fs::canonical(entry));
  EXPECT_TRUE(places.open_existing((entry / "vm-1.snap").string()).valid());
  // Readable is not writable: no new snapshot there.
  EXPECT_NE(error_of([&] { places.create((entry / "new.snap").string(), "a"); }).find("outside snapshot_dir"),
            std::string::npos);
  // Nor anything beside the allowed directory.
  dir.write("cache/other.snap", "x");
  EXPECT_NE(error_of([&] { places.open_existing((dir.path() / "cache" / "other.snap").string()); })
                .find("outside snapshot_dir"),
            std::string::npos);
}

}  // namespace
}  // namespace provium
