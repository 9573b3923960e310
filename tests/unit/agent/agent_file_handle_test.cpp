// openFile, fileRead/Write/Seek/Tell/Close against the real agent binary.
#include "agent_protocol_fixture.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace {

using namespace std::chrono_literals;
using namespace provium::agent_test;
namespace wire = provium::wire::agent;

constexpr std::uint32_t kRead = wire::OPEN_READ;
constexpr std::uint32_t kWrite = wire::OPEN_WRITE;
constexpr std::uint32_t kCreate = wire::OPEN_CREATE;
constexpr std::uint32_t kTruncate = wire::OPEN_TRUNCATE;
constexpr std::uint32_t kAppend = wire::OPEN_APPEND;
constexpr std::uint32_t kExclusive = wire::OPEN_EXCLUSIVE;

TEST(OpenMode, BitsAreThePinnedOnes) {
  EXPECT_EQ(kRead, 1u << 0);
  EXPECT_EQ(kWrite, 1u << 1);
  EXPECT_EQ(kCreate, 1u << 2);
  EXPECT_EQ(kTruncate, 1u << 3);
  EXPECT_EQ(kAppend, 1u << 4);
  EXPECT_EQ(kExclusive, 1u << 5);
}

class FileHandles : public AgentProtocol {
 protected:
  std::uint64_t open(const std::string& path, std::uint32_t mode, std::optional<std::uint32_t> perm = std::nullopt) {
    auto response = client_->open_file(path, mode, perm);
    EXPECT_TRUE(response->isHandle()) << error_text(response);
    return response->isHandle() ? response->getHandle() : 0;
  }
  std::string read(std::uint64_t handle, std::uint32_t max, std::int64_t offset = -1) {
    auto response = client_->file_read(handle, max, offset);
    EXPECT_TRUE(response->isData()) << error_text(response);
    return response->isData() ? data_text(response->getData()) : "";
  }
};

// The example of the File reference page.
TEST_F(FileHandles, RoundTripWithSeekAndTell) {
  const std::string path = scratch("data");
  const auto writer = open(path, kWrite | kCreate | kTruncate, 0600);
  auto written = client_->file_write(writer, "hello world");
  ASSERT_TRUE(written->isWritten()) << error_text(written);
  EXPECT_EQ(written->getWritten(), 11u);
  ASSERT_TRUE(client_->file_close(writer)->isDone());
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);

  const auto reader = open(path, kRead);
  EXPECT_EQ(client_->file_seek(reader, 6, wire::SeekWhence::SET)->getOffset(), 6u);
  EXPECT_EQ(read(reader, 5), "world");
  EXPECT_EQ(client_->file_tell(reader)->getOffset(), 11u);
  EXPECT_EQ(read(reader, 100), "");  // end of file: empty, not an error
  EXPECT_EQ(client_->file_seek(reader, -5, wire::SeekWhence::END)->getOffset(), 6u);
  EXPECT_EQ(client_->file_seek(reader, -6, wire::SeekWhence::CUR)->getOffset(), 0u);
  EXPECT_EQ(read(reader, 5), "hello");
  auto bad_seek = client_->file_seek(reader, -100, wire::SeekWhence::CUR);
  ASSERT_TRUE(bad_seek->isError());
  EXPECT_EQ(error_text(bad_seek), "fileSeek `" + path + "` (handle " + std::to_string(reader) + "): Invalid argument");
  EXPECT_TRUE(client_->file_close(reader)->isDone());
}

TEST_F(FileHandles, PositionalReadsAndWritesLeaveTheCursor) {
  const std::string path = scratch("data");
  write_host_file(path, "0123456789");
  const auto handle = open(path, kRead | kWrite);
  EXPECT_EQ(read(handle, 3, 5), "567");
  EXPECT_EQ(client_->file_write(handle, "ab", 8)->getWritten(), 2u);
  EXPECT_EQ(client_->file_tell(handle)->getOffset(), 0u);
  EXPECT_EQ(read(handle, 100), "01234567ab");
}

TEST_F(FileHandles, AppendWritesAtTheEnd) {
  const std::string path = scratch("log");
  write_host_file(path, "one\n");
  const auto handle = open(path, kAppend);
  EXPECT_EQ(client_->file_write(handle, "two\n")->getWritten(), 4u);
  EXPECT_EQ(read_host_file(path), "one\ntwo\n");
}

TEST_F(FileHandles, AModeWithoutReadWriteOrAppendIsRefused) {
  auto empty = client_->open_file(scratch("x"), 0);
  ASSERT_TRUE(empty->isError());
  EXPECT_EQ(empty->getError().getErrno(), EINVAL);
  EXPECT_EQ(error_text(empty), "openFile `" + scratch("x") + "`: the mode needs read, write or append: Invalid argument");
  EXPECT_EQ(error_text(client_->open_file(scratch("x"), kCreate | kTruncate)),
            "openFile `" + scratch("x") + "`: the mode needs read, write or append: Invalid argument");
  EXPECT_EQ(error_text(client_->open_file(scratch("x"), kRead | 0x40)),
            "openFile `" + scratch("x") + "`: unknown mode bits 64: Invalid argument");
  EXPECT_EQ(error_text(client_->open_file(scratch("x"), kWrite | kExclusive)),
            "openFile `" + scratch("x") + "`: exclusive needs create: Invalid argument");
}

TEST_F(FileHandles, ExclusiveCreateOfAnExistingFileFails) {
  const std::string path = scratch("taken");
  write_host_file(path, "");
  auto response = client_->open_file(path, kWrite | kCreate | kExclusive);
  ASSERT_TRUE(response->isError());
  EXPECT_EQ(response->getError().getErrno(), EEXIST);
  EXPECT_EQ(error_text(response), "openFile `" + path + "`: File exists");
  // Without exclusive, an existing file keeps its mode.
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  open(path, kWrite | kCreate, 0600);
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0640u);
}

TEST_F(FileHandles, MissingFileIsNamed) {
  auto response = client_->open_file("/no/such/file", kRead);
  ASSERT_TRUE(response->isError());
  EXPECT_EQ(response->getError().getErrno(), ENOENT);
  EXPECT_EQ(error_text(response), "openFile `/no/such/file`: No such file or directory");
}

TEST_F(FileHandles, UnknownHandleIdsAreRefused) {
  // 3 is the agent's channel: an fd, but not a handle.
  for (std::uint64_t bogus : {std::uint64_t{3}, std::uint64_t{999}, std::uint64_t{1} << 40}) {
    const std::string id = std::to_string(bogus);
    EXPECT_EQ(error_text(client_->file_read(bogus, 10)), "fileRead: no open file handle " + id + ": Bad file descriptor");
    EXPECT_EQ(error_text(client_->file_write(bogus, "x")), "fileWrite: no open file handle " + id + ": Bad file descriptor");
    EXPECT_EQ(error_text(client_->file_seek(bogus, 0, wire::SeekWhence::SET)),
              "fileSeek: no open file handle " + id + ": Bad file descriptor");
    EXPECT_EQ(error_text(client_->file_tell(bogus)), "fileTell: no open file handle " + id + ": Bad file descriptor");
    EXPECT_EQ(error_text(client_->file_close(bogus)), "fileClose: no open file handle " + id + ": Bad file descriptor");
  }
  const auto handle = open(scratch("f"), kWrite | kCreate);
  ASSERT_TRUE(client_->file_close(handle)->isDone());
  EXPECT_EQ(client_->file_read(handle, 1)->getError().getErrno(), EBADF);
  EXPECT_TRUE(client_->ping()->isPong());
}

TEST_F(FileHandles, AReadFromAnEmptyFifoWaitsWithoutStallingTheAgent) {
  const std::string fifo = scratch("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto handle = open(fifo, kRead);
  // Keep a writer open so the read waits for data rather than seeing EOF.
  provium::agent::UniqueFd writer(::open(fifo.c_str(), O_WRONLY | O_CLOEXEC));
  ASSERT_TRUE(writer.valid());
  const auto read_id = client_->send_file_read(handle, 100);
  EXPECT_TRUE(client_->ping()->isPong());
  auto busy = client_->file_read(handle, 1);
  ASSERT_TRUE(busy->isError());
  EXPECT_EQ(busy->getError().getErrno(), EBUSY);
  ASSERT_EQ(::write(writer.get(), "ping!", 5), 5);
  auto data = client_->wait(read_id, 60s);
  ASSERT_TRUE(data->isData()) << error_text(data);
  EXPECT_EQ(data_text(data->getData()), "ping!");
}

TEST_F(FileHandles, ClosingAHandleAnswersItsWaitingRead) {
  const std::string fifo = scratch("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto handle = open(fifo, kRead);
  provium::agent::UniqueFd writer(::open(fifo.c_str(), O_WRONLY | O_CLOEXEC));
  const auto read_id = client_->send_file_read(handle, 100);
  EXPECT_TRUE(client_->file_close(handle)->isDone());
  auto read = client_->wait(read_id, 60s);
  ASSERT_TRUE(read->isError());
  EXPECT_EQ(read->getError().getErrno(), EBADF);
  EXPECT_EQ(error_text(read), "fileRead `" + fifo + "` (handle " + std::to_string(handle) +
                                  "): the handle was closed while waiting");
}

TEST_F(FileHandles, HandlesAreClosedWhenTheHostSessionResets) {
  const auto handle = open(scratch("f"), kWrite | kCreate);
  EXPECT_TRUE(client_->hello()->isHelloOk());
  EXPECT_EQ(client_->file_write(handle, "x")->getError().getErrno(), EBADF);
}

TEST_F(FileHandles, OpenHandlesAreBounded) {
  write_host_file(scratch("f"), "");
  std::size_t opened = 0;
  for (;; ++opened) {
    auto response = client_->open_file(scratch("f"), kRead);
    if (response->isError()) {
      EXPECT_EQ(response->getError().getErrno(), EMFILE);
      EXPECT_NE(error_text(response).find("handles are already open"), std::string::npos) << error_text(response);
      break;
    }
    ASSERT_LT(opened, 10000u);
  }
  EXPECT_EQ(opened, 256u);
}

// Files bigger than a frame go in chunks: openFile + fileWrite pieces.
TEST_F(FileHandles, ALargeFileIsWrittenInChunks) {
  const std::string path = scratch("big");
  const auto handle = open(path, kWrite | kCreate | kTruncate);
  std::string expected;
  for (int chunk = 0; chunk < 8; ++chunk) {
    const std::string piece(1 << 20, static_cast<char>('a' + chunk));
    auto written = client_->file_write(handle, piece);
    ASSERT_TRUE(written->isWritten()) << error_text(written);
    EXPECT_EQ(written->getWritten(), piece.size());
    expected += piece;
  }
  ASSERT_TRUE(client_->file_close(handle)->isDone());
  EXPECT_TRUE(read_host_file(path) == expected);
}

}  // namespace
