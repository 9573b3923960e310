#include "discovery.h"

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace provium {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::vector<std::string> displays(const std::vector<TestFile>& files) {
  std::vector<std::string> out;
  for (const auto& file : files) out.push_back(file.display);
  return out;
}

class Discovery : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("tests/smoke.test.lua", "");
    dir_.write("tests/networking/partition.test.lua", "");
    dir_.write("tests/networking/helper.lua", "");
    dir_.write("tests/a.test.lua", "");
    dir_.write("tests/.hidden/secret.test.lua", "");
    dir_.write("tests/notes.txt", "");
    dir_.write("other/x.test.lua", "");
  }
  TempDir dir_;
};

TEST_F(Discovery, WalksSortedAndSkipsHiddenDirectories) {
  const auto files = discover_test_files({"tests"}, "", dir_.path());
  EXPECT_EQ(displays(files), (std::vector<std::string>{"tests/a.test.lua", "tests/networking/partition.test.lua",
                                                       "tests/smoke.test.lua"}));
  EXPECT_EQ(files[1].root_relative, "networking/partition.test.lua");
  EXPECT_EQ(files[1].absolute, dir_.path() / "tests/networking/partition.test.lua");
}

TEST_F(Discovery, AFilePathRunsJustThatFile) {
  const auto files = discover_test_files({"tests/networking/partition.test.lua"}, "", dir_.path());
  EXPECT_EQ(displays(files), (std::vector<std::string>{"tests/networking/partition.test.lua"}));
  EXPECT_EQ(files[0].root_relative, "partition.test.lua");
}

TEST_F(Discovery, FilterMatchesTheRootRelativePath) {
  EXPECT_EQ(displays(discover_test_files({"tests"}, "networking", dir_.path())),
            (std::vector<std::string>{"tests/networking/partition.test.lua"}));
  EXPECT_EQ(displays(discover_test_files({"tests"}, "smoke.test", dir_.path())),
            (std::vector<std::string>{"tests/smoke.test.lua"}));
  EXPECT_TRUE(discover_test_files({"tests"}, "tests/", dir_.path()).empty()) << "the root itself is not matched";
}

TEST_F(Discovery, OverlappingPathsListAFileOnce) {
  EXPECT_EQ(discover_test_files({"tests", "tests/smoke.test.lua", "tests/networking"}, "", dir_.path()).size(), 3u);
}

TEST_F(Discovery, MissingPathIsAnError) {
  EXPECT_THROW(discover_test_files({"nope"}, "", dir_.path()), DiscoveryError);
}

TEST_F(Discovery, DisplayPathsOutsideTheCwdAreAbsolute) {
  const auto files = discover_test_files({dir_.path() / "other"}, "", dir_.path() / "tests");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].display, (dir_.path() / "other/x.test.lua").string());
  EXPECT_EQ(display_path(dir_.path() / "tests/a.test.lua", dir_.path()), "tests/a.test.lua");
}

}  // namespace
}  // namespace provium
