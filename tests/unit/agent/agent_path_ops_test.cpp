// stat, listdir, mkdir, unlink and rename against the real agent binary.
#include "agent_protocol_fixture.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <filesystem>

namespace {

using namespace provium::agent_test;
namespace wire = provium::wire::agent;
namespace fs = std::filesystem;

TEST_F(AgentProtocol, StatReportsSizePermTypeOwnerAndTime) {
  const std::string path = scratch("file");
  write_host_file(path, "twelve bytes");
  ASSERT_EQ(::chmod(path.c_str(), 04751), 0);
  struct stat expected {};
  ASSERT_EQ(::lstat(path.c_str(), &expected), 0);

  auto response = client_->stat(path);
  ASSERT_TRUE(response->isStat()) << error_text(response);
  auto stat = response->getStat();
  EXPECT_EQ(stat.getSize(), 12u);
  EXPECT_EQ(stat.getPerm(), 04751u);
  EXPECT_EQ(stat.getEntryType(), wire::EntryType::FILE);
  EXPECT_EQ(stat.getMtimeNs(), std::int64_t{expected.st_mtim.tv_sec} * 1'000'000'000 + expected.st_mtim.tv_nsec);
  EXPECT_EQ(stat.getUid(), expected.st_uid);
  EXPECT_EQ(stat.getGid(), expected.st_gid);
  EXPECT_EQ(stat.getNlink(), 1u);
  EXPECT_EQ(stat.getInode(), expected.st_ino);

  EXPECT_EQ(client_->stat(scratch())->getStat().getEntryType(), wire::EntryType::DIRECTORY);
  EXPECT_EQ(client_->stat("/dev/null")->getStat().getEntryType(), wire::EntryType::CHAR_DEVICE);
}

TEST_F(AgentProtocol, StatDoesNotFollowSymlinks) {
  const std::string link = scratch("link");
  ASSERT_EQ(::symlink("/no/such/target", link.c_str()), 0);
  auto response = client_->stat(link);
  ASSERT_TRUE(response->isStat()) << error_text(response);
  EXPECT_EQ(response->getStat().getEntryType(), wire::EntryType::SYMLINK);
  EXPECT_EQ(response->getStat().getSize(), std::string("/no/such/target").size());
}

TEST_F(AgentProtocol, StatOfAMissingPathNamesIt) {
  auto response = client_->stat("/no/such/file");
  ASSERT_TRUE(response->isError());
  EXPECT_EQ(response->getError().getErrno(), ENOENT);
  EXPECT_EQ(error_text(response), "stat `/no/such/file`: No such file or directory");
}

TEST_F(AgentProtocol, ListdirIsSortedAndTyped) {
  write_host_file(scratch("b-file"), "");
  fs::create_directory(scratch("a-dir"));
  ASSERT_EQ(::symlink("b-file", scratch("c-link").c_str()), 0);
  ASSERT_EQ(::mkfifo(scratch("d-fifo").c_str(), 0600), 0);

  auto response = client_->listdir(scratch());
  ASSERT_TRUE(response->isDirEntries()) << error_text(response);
  std::vector<std::pair<std::string, wire::EntryType>> entries;
  for (auto entry : response->getDirEntries()) entries.emplace_back(entry.getName().cStr(), entry.getEntryType());
  EXPECT_EQ(entries, (std::vector<std::pair<std::string, wire::EntryType>>{
                         {"a-dir", wire::EntryType::DIRECTORY},
                         {"b-file", wire::EntryType::FILE},
                         {"c-link", wire::EntryType::SYMLINK},
                         {"d-fifo", wire::EntryType::FIFO},
                     }));
  EXPECT_EQ(client_->listdir(scratch("a-dir"))->getDirEntries().size(), 0u);
}

TEST_F(AgentProtocol, ListdirErrorsNameThePath) {
  write_host_file(scratch("file"), "");
  auto not_dir = client_->listdir(scratch("file"));
  ASSERT_TRUE(not_dir->isError());
  EXPECT_EQ(not_dir->getError().getErrno(), ENOTDIR);
  EXPECT_EQ(error_text(not_dir), "listdir `" + scratch("file") + "`: Not a directory");
  EXPECT_EQ(client_->listdir("/no/such/dir")->getError().getErrno(), ENOENT);
}

TEST_F(AgentProtocol, MkdirAppliesPermExactlyAndCreatesParents) {
  auto made = client_->mkdir(scratch("private"), false, 0700);
  ASSERT_TRUE(made->isDone()) << error_text(made);
  EXPECT_EQ(fs::status(scratch("private")).permissions(), fs::perms::owner_all);
  // The default is 0755, and setgid bits are kept too.
  ASSERT_TRUE(client_->mkdir(scratch("default"), false)->isDone());
  EXPECT_EQ(static_cast<unsigned>(fs::status(scratch("default")).permissions()), 0755u);
  ASSERT_TRUE(client_->mkdir(scratch("shared"), false, 02775)->isDone());
  struct stat info {};
  ASSERT_EQ(::stat(scratch("shared").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 02775u);

  auto deep = client_->mkdir(scratch("a//b/c/"), true, 0711);
  ASSERT_TRUE(deep->isDone()) << error_text(deep);
  ASSERT_EQ(::stat(scratch("a/b/c").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0711u);
  ASSERT_EQ(::stat(scratch("a/b").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0755u);
  // With parents, an existing directory is fine; without, it is not.
  EXPECT_TRUE(client_->mkdir(scratch("a/b/c"), true)->isDone());
  auto again = client_->mkdir(scratch("a/b/c"), false);
  ASSERT_TRUE(again->isError());
  EXPECT_EQ(again->getError().getErrno(), EEXIST);
  EXPECT_EQ(error_text(again), "mkdir `" + scratch("a/b/c") + "`: File exists");
  auto no_parent = client_->mkdir(scratch("x/y"), false);
  EXPECT_EQ(error_text(no_parent), "mkdir `" + scratch("x/y") + "`: No such file or directory");
}

TEST_F(AgentProtocol, UnlinkRemovesFilesAndEmptyDirectoriesOnly) {
  write_host_file(scratch("file"), "x");
  fs::create_directories(scratch("full/inner"));
  ASSERT_TRUE(client_->unlink(scratch("file"))->isDone());
  EXPECT_FALSE(fs::exists(scratch("file")));
  ASSERT_TRUE(client_->unlink(scratch("full/inner"))->isDone());
  EXPECT_FALSE(fs::exists(scratch("full/inner")));
  write_host_file(scratch("full/keep"), "x");
  auto full = client_->unlink(scratch("full"));
  ASSERT_TRUE(full->isError());
  EXPECT_EQ(full->getError().getErrno(), ENOTEMPTY);
  EXPECT_EQ(error_text(full), "unlink `" + scratch("full") + "`: Directory not empty");
  EXPECT_EQ(error_text(client_->unlink(scratch("gone"))), "unlink `" + scratch("gone") + "`: No such file or directory");
}

TEST_F(AgentProtocol, RenameMovesAndNamesBothPathsOnFailure) {
  write_host_file(scratch("from"), "content");
  ASSERT_TRUE(client_->rename(scratch("from"), scratch("to"))->isDone());
  EXPECT_EQ(read_host_file(scratch("to")), "content");
  EXPECT_FALSE(fs::exists(scratch("from")));
  auto missing = client_->rename(scratch("from"), scratch("elsewhere"));
  ASSERT_TRUE(missing->isError());
  EXPECT_EQ(error_text(missing),
            "rename `" + scratch("from") + "` to `" + scratch("elsewhere") + "`: No such file or directory");
}

}  // namespace
