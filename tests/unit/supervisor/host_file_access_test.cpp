// push_file's host side: only regular files whose real path lies under a
// root, whatever the path and its symlinks say.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include "host_file_access.h"
#include "temp_dir.h"

namespace provium {
namespace {

namespace fs = std::filesystem;

struct Tree {
  testing::TempDir dir;
  HostFileRoots roots;
  Tree() {
    dir.write("project/tests/data.bin", "data");
    dir.write("project/tests/sub/nested.txt", "nested");
    dir.write("project/build/artifact", "artifact");
    dir.write("outside/secret", "secret");
    roots.roots = {dir.path() / "project/tests", dir.path() / "project"};
    roots.cwd = dir.path() / "project";
  }
  std::string read_all(const OpenedHostFile& file) {
    std::string data(file.size, '\0');
    EXPECT_EQ(::pread(file.fd.get(), data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
    return data;
  }
  std::string refusal(const std::string& path, const std::string& relative_to = "tests/x.test.lua") {
    try {
      open_host_file(path, relative_to, roots);
    } catch (const HostFileError& error) {
      return error.what();
    }
    return "(accepted)";
  }
};

TEST(HostFileAccess, OpensFilesRelativeToTheCallingFile) {
  Tree tree;
  const OpenedHostFile file = open_host_file("data.bin", "tests/x.test.lua", tree.roots);
  EXPECT_EQ(tree.read_all(file), "data");
  EXPECT_EQ(file.resolved, fs::canonical(tree.dir.path() / "project/tests/data.bin"));
  EXPECT_EQ(tree.read_all(open_host_file("sub/nested.txt", "tests/x.test.lua", tree.roots)), "nested");
  EXPECT_EQ(tree.read_all(open_host_file("../build/artifact", "tests/x.test.lua", tree.roots)), "artifact");
  // No calling file: the first root.
  EXPECT_EQ(tree.read_all(open_host_file("data.bin", "", tree.roots)), "data");
  const std::string absolute = (tree.dir.path() / "project/build/artifact").string();
  EXPECT_EQ(tree.read_all(open_host_file(absolute, "tests/x.test.lua", tree.roots)), "artifact");
}

TEST(HostFileAccess, RefusesPathsOutsideTheRoots) {
  Tree tree;
  const std::string outside = tree.refusal("../../outside/secret");
  EXPECT_NE(outside.find("host file `../../outside/secret`"), std::string::npos) << outside;
  EXPECT_NE(outside.find("outside the roots push_file may read"), std::string::npos) << outside;
  EXPECT_NE(tree.refusal("/etc/passwd").find("outside the roots"), std::string::npos);
  // A lying calling-file path moves the anchor, not the roots.
  EXPECT_NE(tree.refusal("secret", "../outside/x.test.lua").find("outside the roots"), std::string::npos);
}

TEST(HostFileAccess, RefusesSymlinksLeadingOut) {
  Tree tree;
  fs::create_symlink(tree.dir.path() / "outside/secret", tree.dir.path() / "project/tests/link");
  fs::create_directory_symlink(tree.dir.path() / "outside", tree.dir.path() / "project/tests/dirlink");
  EXPECT_NE(tree.refusal("link").find("outside the roots"), std::string::npos);
  EXPECT_NE(tree.refusal("dirlink/secret").find("outside the roots"), std::string::npos);
  // A symlink that stays inside is fine.
  fs::create_symlink(tree.dir.path() / "project/build/artifact", tree.dir.path() / "project/tests/inside");
  EXPECT_EQ(tree.read_all(open_host_file("inside", "tests/x.test.lua", tree.roots)), "artifact");
}

TEST(HostFileAccess, RefusesWhatIsNotARegularFile) {
  Tree tree;
  EXPECT_NE(tree.refusal("sub").find("is not a regular file"), std::string::npos);
  ASSERT_EQ(::mkfifo((tree.dir.path() / "project/tests/fifo").c_str(), 0600), 0);
  EXPECT_NE(tree.refusal("fifo").find("is not a regular file"), std::string::npos);  // and does not hang
  EXPECT_NE(tree.refusal("missing").find("No such file or directory"), std::string::npos);
  EXPECT_NE(tree.refusal("").find("the host path is empty"), std::string::npos);
  EXPECT_NE(tree.refusal(std::string("a\0b", 3)).find("NUL"), std::string::npos);
  EXPECT_NE(tree.refusal(std::string(5000, 'a')).find("the limit is 4096"), std::string::npos);
}

}  // namespace
}  // namespace provium
