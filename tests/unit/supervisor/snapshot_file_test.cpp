#include "snapshot_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "guest_ram.h"
#include "temp_dir.h"

namespace provium {
namespace {

using testing::TempDir;

constexpr std::uint64_t kRam = 1 << 20;

// A snapshot file with `ram` bytes of RAM (one page written) and a fake device state.
int write_snapshot(const std::string& path, SnapshotInfo& info) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  GuestRam ram = GuestRam::create(kRam, "t");
  EXPECT_EQ(::pwrite(ram.fd(), "guest page", 10, 8192), 10);
  copy_sparse(ram.fd(), fd, kRam);
  const std::string state(5000, 's');
  EXPECT_EQ(::pwrite(fd, state.data(), state.size(), kRam), static_cast<ssize_t>(state.size()));
  info.ram_bytes = kRam;
  info.vm = "a";
  info.profile = "default";
  info.accel = "tcg";
  finish_snapshot_file(fd, info);
  return fd;
}

TEST(SnapshotFile, RoundTripsItsMetadataAndKeepsRamSparseAtOffsetZero) {
  TempDir dir;
  const std::string path = (dir.path() / "a.snap").string();
  SnapshotInfo written;
  written.cpus = 2;
  written.nic_slots = 4;
  const int fd = write_snapshot(path, written);
  const SnapshotInfo read = read_snapshot_file(fd, path);
  EXPECT_EQ(read.vm, "a");
  EXPECT_EQ(read.profile, "default");
  EXPECT_EQ(read.ram_bytes, kRam);
  EXPECT_EQ(read.cpus, 2u);
  EXPECT_EQ(read.nic_slots, 4u);
  EXPECT_EQ(read.state_bytes, 5000u);
  char page[10] = {};
  ASSERT_EQ(::pread(fd, page, 10, 8192), 10);
  EXPECT_EQ(std::string(page, 10), "guest page");
  ::close(fd);
}

TEST(SnapshotFile, RefusesAFileThatIsNotASnapshot) {
  TempDir dir;
  const auto path = dir.write("x.snap", std::string(100000, 'x'));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_THROW(
      {
        try {
          read_snapshot_file(fd, path.string());
        } catch (const SnapshotFileError& error) {
          EXPECT_NE(std::string(error.what()).find("not a Provium snapshot"), std::string::npos) << error.what();
          throw;
        }
      },
      SnapshotFileError);
  ::close(fd);
}

TEST(SnapshotFile, RefusesADamagedDeviceState) {
  TempDir dir;
  const std::string path = (dir.path() / "a.snap").string();
  SnapshotInfo info;
  const int fd = write_snapshot(path, info);
  ASSERT_EQ(::pwrite(fd, "X", 1, kRam + 100), 1);
  try {
    read_snapshot_file(fd, path);
    ADD_FAILURE() << "a damaged device state was accepted";
  } catch (const SnapshotFileError& error) {
    EXPECT_NE(std::string(error.what()).find("device state does not match"), std::string::npos) << error.what();
  }
  ::close(fd);
}

TEST(SnapshotFile, RefusesATruncatedFile) {
  TempDir dir;
  const std::string path = (dir.path() / "a.snap").string();
  SnapshotInfo info;
  const int fd = write_snapshot(path, info);
  ASSERT_EQ(::ftruncate(fd, kRam + 10), 0);
  EXPECT_THROW(read_snapshot_file(fd, path), SnapshotFileError);
  ::close(fd);
}

}  // namespace
}  // namespace provium
