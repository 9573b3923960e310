#include "event_sinks.h"

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "event_frame.h"
#include "event_stream.h"

namespace provium {
namespace {

namespace fs = std::filesystem;

class EventSinks : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("provium-event-sinks-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string read_all(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  fs::path dir_;
};

TEST_F(EventSinks, FileIsPrivateAndHoldsEachFrameAsSoonAsItIsEmitted) {
  const fs::path path = dir_ / "events.msgpack";
  {
    std::ofstream old(path);
    old << "left from an earlier run";
  }
  ::chmod(path.c_str(), 0644);
  std::ostringstream notes;
  EventStream stream(notes);
  stream.add_sink(FdEventSink::create_file(path));
  const Event first = events::file_dispatched("a.test.lua");
  stream.emit(first);
  // Read back while the stream is still open: nothing waits in a buffer.
  EXPECT_EQ(read_all(path), encode_event_frame(first));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(notes.str().empty()) << notes.str();
}

TEST_F(EventSinks, UnwritableFileIsAClearError) {
  try {
    FdEventSink::create_file(dir_ / "missing" / "events.msgpack");
    FAIL() << "no error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("--save-events"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("missing/events.msgpack"), std::string::npos) << error.what();
  }
}

int connect_to(const fs::path& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.native().size());
  EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  return fd;
}

std::string read_exactly(int fd, std::size_t size) {
  std::string data(size, '\0');
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, data.data() + got, size - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  data.resize(got);
  return data;
}

TEST_F(EventSinks, SocketFansOutToEveryClientAndIsRemovedAfterwards) {
  const fs::path path = dir_ / "events.sock";
  const Event event = events::fixture_cache_hit("base");
  const std::string frame = encode_event_frame(event);
  OwnedFd one, two;
  {
    SocketEventSink sink(path);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    one.reset(connect_to(path));
    two.reset(connect_to(path));
    sink.write(frame);
    EXPECT_EQ(sink.clients(), 2u);
    EXPECT_EQ(read_exactly(one.get(), frame.size()), frame);
    EXPECT_EQ(read_exactly(two.get(), frame.size()), frame);
    two.reset();  // a client that leaves is dropped at the next frame
    sink.write(frame);
    sink.write(frame);
    EXPECT_EQ(sink.clients(), 1u);
  }
  EXPECT_FALSE(fs::exists(path));
  // Both frames sent after the other client left, then end of stream.
  EXPECT_EQ(read_exactly(one.get(), 2 * frame.size()), frame + frame);
  char byte = 0;
  EXPECT_EQ(::read(one.get(), &byte, 1), 0);
}

TEST_F(EventSinks, SocketRefusesAnExistingPath) {
  const fs::path path = dir_ / "taken";
  std::ofstream(path) << "x";
  try {
    SocketEventSink sink(path);
    FAIL() << "no error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("already exists"), std::string::npos) << error.what();
  }
  EXPECT_TRUE(fs::exists(path)) << "someone else's file was removed";
}

TEST_F(EventSinks, SocketTakesThePlaceOfADeadSocketButNotOfALiveOne) {
  const fs::path path = dir_ / "events.sock";
  {
    // Bound and closed without unlinking: what a SIGKILLed run leaves behind.
    OwnedFd dead(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.c_str(), path.native().size());
    ASSERT_EQ(::bind(dead.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  }
  ASSERT_TRUE(fs::exists(path));
  SocketEventSink live(path);
  OwnedFd client(connect_to(path));
  try {
    SocketEventSink second(path);
    FAIL() << "a live socket was replaced";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("already exists"), std::string::npos) << error.what();
  }
  live.write("x");
  EXPECT_EQ(read_exactly(client.get(), 1), "x") << "the live sink still works";
}

TEST_F(EventSinks, AFailingSinkIsReportedOnceAndDropped) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  ::close(pipe_fds[0]);  // nobody reads: writes fail with EPIPE (SIGPIPE is ignored below)
  std::ostringstream notes;
  EventStream stream(notes);
  const fs::path path = dir_ / "kept.msgpack";
  stream.add_sink(std::make_unique<FdEventSink>(OwnedFd(pipe_fds[1]), "--events-stdout"));
  stream.add_sink(FdEventSink::create_file(path));
  auto previous = std::signal(SIGPIPE, SIG_IGN);
  const Event event = events::file_dispatched("a");
  stream.emit(event);
  stream.emit(event);
  std::signal(SIGPIPE, previous);
  EXPECT_EQ(read_all(path), encode_event_frame(event) + encode_event_frame(event)) << "the other sink goes on";
  const std::string said = notes.str();
  EXPECT_NE(said.find("--events-stdout"), std::string::npos) << said;
  EXPECT_EQ(said.find("--events-stdout"), said.rfind("--events-stdout")) << "reported more than once: " << said;
}

}  // namespace
}  // namespace provium
