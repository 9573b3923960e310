#include "agent_overlay.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "file_io.h"
#include "guest_image.h"
#include "sha256.h"
#include "temp_dir.h"

namespace provium {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string read_fd(int fd) {
  std::string out;
  char buffer[4096];
  ssize_t got;
  ::lseek(fd, 0, SEEK_SET);
  while ((got = ::read(fd, buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<std::size_t>(got));
  return out;
}

TEST(Sha256, KnownVector) {
  Sha256 hash;
  hash.update("ab");
  hash.update("c");
  EXPECT_EQ(hash.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AgentOverlay, MergesPaddedAndCachesByContent) {
  TempDir dir;
  const fs::path initrd = dir.write("initrd.cpio", "12345");  // 5 bytes: 3 bytes of padding follow
  const fs::path overlay = dir.write("overlay.cpio", "OVERLAY");
  AgentOverlayCache cache(dir.path() / "cache");
  const fs::path merged = cache.merged(initrd, overlay);
  EXPECT_EQ(merged.parent_path(), dir.path() / "cache");
  EXPECT_EQ(read_file_capped(merged, 1 << 20), std::string("12345\0\0\0OVERLAY", 15));
  Sha256 hash;
  hash.update(std::string("12345\0\0\0OVERLAY", 15));
  EXPECT_EQ(merged.filename(), hash.hex_digest() + ".cpio");
  struct stat info {};
  ASSERT_EQ(::stat(merged.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644u);
  EXPECT_EQ(cache.merged(initrd, overlay), merged);
  EXPECT_EQ(AgentOverlayCache(dir.path() / "cache").merged(initrd, overlay), merged) << "same content, same file";
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path() / "cache")) ++entries;
  EXPECT_EQ(entries, 1u) << "no temp files left behind";
}

TEST(AgentOverlay, MissingInputsNameTheFile) {
  TempDir dir;
  AgentOverlayCache cache(dir.path() / "cache");
  try {
    cache.merged(dir.path() / "nope", dir.write("o", "x"));
    FAIL();
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("nope"), std::string::npos);
  }
}

TEST(GuestImage, FilesAreAppendedAsAnAlignedCpio) {
  TempDir dir;
  const fs::path kernel = dir.write("vmlinux", "KERNEL");
  const fs::path initrd = dir.write("initrd", "INITRD!");  // 7 bytes
  GuestImage plain = open_guest_image(kernel, initrd, {}, false);
  EXPECT_EQ(read_fd(plain.kernel.get()), "KERNEL");
  EXPECT_EQ(read_fd(plain.initrd.get()), "INITRD!");

  GuestImage with_files = open_guest_image(kernel, initrd, {{"/etc/hostname", "vm1"}}, false);
  const std::string image = read_fd(with_files.initrd.get());
  EXPECT_EQ(image.substr(0, 8), std::string("INITRD!\0", 8));
  EXPECT_EQ(image.substr(8, 6), "070701");
  EXPECT_NE(image.find("vm1"), std::string::npos);
}

TEST(GuestImage, UnreadableFilesAreCopiedForAnUnprivilegedQemu) {
  TempDir dir;
  const fs::path kernel = dir.write("vmlinux", "SECRET-KERNEL");
  ::chmod(kernel.c_str(), 0600);
  GuestImage image = open_guest_image(kernel, dir.write("initrd", "I"), {}, true);
  struct stat info {};
  ASSERT_EQ(::fstat(image.kernel.get(), &info), 0);
  EXPECT_NE(info.st_mode & S_IROTH, 0u) << "a memfd copy others can read";
  EXPECT_EQ(read_fd(image.kernel.get()), "SECRET-KERNEL");
  EXPECT_THROW(open_guest_image(dir.path() / "missing", dir.path() / "initrd", {}, false), std::runtime_error);
}

}  // namespace
}  // namespace provium
