// syscall and ioctl (layer 0) against the real agent binary: buffers both
// ways, pointers inside ioctl structs, and the calls the agent refuses.
#include "agent_protocol_fixture.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace {

using namespace provium::agent_test;
namespace wire = provium::wire::agent;

capnp::Data::Reader as_data(const std::string& bytes) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size());
}

struct Syscall {
  std::int64_t nr;
  std::vector<std::int64_t> args;
  std::vector<std::string> bufs;
  std::vector<std::uint8_t> ptrs;
};

class RawCalls : public AgentProtocol {
 protected:
  Response syscall(const Syscall& call) {
    return client_->call([&](wire::Request::Builder r) {
      auto request = r.initSyscall();
      request.setNr(call.nr);
      auto args = request.initArgs(static_cast<unsigned>(call.args.size()));
      for (unsigned i = 0; i < call.args.size(); ++i) args.set(i, call.args[i]);
      auto bufs = request.initBufs(static_cast<unsigned>(call.bufs.size()));
      for (unsigned i = 0; i < call.bufs.size(); ++i) {
        bufs.set(i, as_data(call.bufs[i]));
      }
      auto ptrs = request.initPtrs(static_cast<unsigned>(call.ptrs.size()));
      for (unsigned i = 0; i < call.ptrs.size(); ++i) ptrs.set(i, call.ptrs[i]);
    });
  }

  void expect_refused(const Syscall& call, const std::string& why) {
    auto response = syscall(call);
    ASSERT_TRUE(response->isError()) << "syscall " << call.nr << " was not refused";
    EXPECT_EQ(response->getError().getErrno(), EPERM);
    EXPECT_EQ(error_text(response), "syscall " + std::to_string(call.nr) + " refused: " + why + ": Operation not permitted");
  }
};

TEST_F(RawCalls, GetpidIsTheAgentsPid) {
  auto response = syscall({.nr = SYS_getpid});
  ASSERT_TRUE(response->isSyscall()) << error_text(response);
  EXPECT_EQ(response->getSyscall().getRet(), agent_->pid());
  EXPECT_EQ(response->getSyscall().getErrno(), 0);
}

TEST_F(RawCalls, BuffersCarryDataInAndOut) {
  write_host_file(scratch("f"), "abcdefgh");
  auto handle = client_->open_file(scratch("f"), wire::OPEN_READ | wire::OPEN_WRITE)->getHandle();
  // pread64(handle, buf, 4, 2): the buffer comes back filled.
  auto read = syscall({.nr = SYS_pread64, .args = {static_cast<std::int64_t>(handle), 0, 4, 2},
                       .bufs = {std::string(6, '.')}, .ptrs = {1}});
  ASSERT_TRUE(read->isSyscall()) << error_text(read);
  EXPECT_EQ(read->getSyscall().getRet(), 4);
  ASSERT_EQ(read->getSyscall().getOutBufs().size(), 1u);
  EXPECT_EQ(data_text(read->getSyscall().getOutBufs()[0]), "cdef..");
  // pwrite64(handle, "XY", 2, 0): the buffer goes in.
  auto write = syscall({.nr = SYS_pwrite64, .args = {static_cast<std::int64_t>(handle), 0, 2, 0},
                        .bufs = {"XY"}, .ptrs = {1}});
  EXPECT_EQ(write->getSyscall().getRet(), 2);
  EXPECT_EQ(read_host_file(scratch("f")), "XYcdefgh");
}

TEST_F(RawCalls, AFailedCallReportsItsErrno) {
  auto response = syscall({.nr = SYS_close, .args = {999999}});
  ASSERT_TRUE(response->isSyscall()) << error_text(response);
  EXPECT_EQ(response->getSyscall().getRet(), -1);
  EXPECT_EQ(response->getSyscall().getErrno(), EBADF);
}

TEST_F(RawCalls, FdsOpenedByRawCallsStayOpenForIoctl) {
  auto socket = syscall({.nr = SYS_socket, .args = {AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0}});
  ASSERT_TRUE(socket->isSyscall()) << error_text(socket);
  const auto fd = socket->getSyscall().getRet();
  ASSERT_GE(fd, 0);
  // SIOCGIFCONF: struct ifconf {int len; char* buf;} with buf spliced in at
  // offset 8, pointing at room for 16 ifreqs.
  std::string ifconf(sizeof(struct ifconf), '\0');
  const int room = 16 * static_cast<int>(sizeof(struct ifreq));
  std::memcpy(ifconf.data(), &room, sizeof room);
  auto response = client_->call([&](wire::Request::Builder r) {
    auto ioctl = r.initIoctl();
    ioctl.setFd(static_cast<std::int32_t>(fd));
    ioctl.setCmd(SIOCGIFCONF);
    ioctl.setData(as_data(ifconf));
    ioctl.initBufs(1).set(0, as_data(std::string(static_cast<std::size_t>(room), '\0')));
    ioctl.initPtrOffsets(1).set(0, offsetof(struct ifconf, ifc_buf));
  });
  ASSERT_TRUE(response->isIoctl()) << error_text(response);
  EXPECT_EQ(response->getIoctl().getRet(), 0);
  int used = 0;
  std::memcpy(&used, response->getIoctl().getOutData().begin(), sizeof used);
  EXPECT_GT(used, 0);
  EXPECT_EQ(used % static_cast<int>(sizeof(struct ifreq)), 0);
  const std::string interfaces = data_text(response->getIoctl().getOutBufs()[0]).substr(0, static_cast<std::size_t>(used));
  EXPECT_NE(interfaces.find(std::string("lo\0", 3)), std::string::npos);
  // Not the agent's: closing it is allowed.
  EXPECT_EQ(syscall({.nr = SYS_close, .args = {fd}})->getSyscall().getRet(), 0);
}

TEST_F(RawCalls, IoctlWithAnIntegerArgumentOrAnOutBuffer) {
  write_host_file(scratch("f"), "0123456789");
  auto handle = client_->open_file(scratch("f"), wire::OPEN_READ)->getHandle();
  client_->file_seek(handle, 3, wire::SeekWhence::SET);
  // FIONREAD on a regular file: the bytes left after the cursor.
  auto response = client_->call([&](wire::Request::Builder r) {
    auto ioctl = r.initIoctl();
    ioctl.setFd(static_cast<std::int32_t>(handle));
    ioctl.setCmd(FIONREAD);
    ioctl.setData(as_data(std::string(sizeof(int), '\0')));
  });
  ASSERT_TRUE(response->isIoctl()) << error_text(response);
  int left = 0;
  std::memcpy(&left, response->getIoctl().getOutData().begin(), sizeof left);
  EXPECT_EQ(left, 7);
  // An ioctl a regular file does not know, with a plain integer argument.
  auto unknown = client_->call([&](wire::Request::Builder r) {
    auto ioctl = r.initIoctl();
    ioctl.setFd(static_cast<std::int32_t>(handle));
    ioctl.setCmd(TIOCSCTTY);
    ioctl.setArg(0);
  });
  ASSERT_TRUE(unknown->isIoctl()) << error_text(unknown);
  EXPECT_EQ(unknown->getIoctl().getRet(), -1);
  EXPECT_EQ(unknown->getIoctl().getErrno(), ENOTTY);
}

TEST_F(RawCalls, CallsThatWouldHurtTheAgentAreRefused) {
  const std::int64_t agent = agent_->pid();
  expect_refused({.nr = SYS_exit_group, .args = {0}}, "it would end the agent");
  expect_refused({.nr = SYS_exit, .args = {0}}, "it would end the agent");
  expect_refused({.nr = SYS_execve}, "it would replace the agent (use spawn)");
  expect_refused({.nr = SYS_fork}, "the child would share the agent's channel (use spawn)");
  expect_refused({.nr = SYS_clone}, "the child would share the agent's channel (use spawn)");
  expect_refused({.nr = SYS_kill, .args = {agent, SIGKILL}}, "the signal would reach the agent itself or PID 1");
  expect_refused({.nr = SYS_kill, .args = {1, SIGTERM}}, "the signal would reach the agent itself or PID 1");
  expect_refused({.nr = SYS_kill, .args = {0, SIGTERM}}, "the signal would reach the agent itself or PID 1");
  expect_refused({.nr = SYS_tgkill, .args = {agent, agent, SIGKILL}}, "the signal would reach the agent itself or PID 1");
  // fd 3 is the agent's channel; file handles are the agent's too.
  expect_refused({.nr = SYS_close, .args = {3}}, "fd 3 is in use by the agent (close file handles with fileClose)");
  write_host_file(scratch("f"), "");
  const auto handle = static_cast<std::int64_t>(client_->open_file(scratch("f"), wire::OPEN_READ)->getHandle());
  expect_refused({.nr = SYS_close, .args = {handle}},
                 "fd " + std::to_string(handle) + " is in use by the agent (close file handles with fileClose)");
  expect_refused({.nr = SYS_dup2, .args = {0, 3}}, "fd 3 is in use by the agent (close file handles with fileClose)");
  expect_refused({.nr = SYS_close_range, .args = {3, 100, 0}},
                 "fd 3 is in use by the agent (close file handles with fileClose)");
  // Harmless forms are allowed: signal 0 is an existence check.
  EXPECT_EQ(syscall({.nr = SYS_kill, .args = {agent, 0}})->getSyscall().getRet(), 0);
  EXPECT_TRUE(client_->ping()->isPong());
}

TEST_F(RawCalls, MalformedRequestsAreRefused) {
  auto seven = syscall({.nr = SYS_getpid, .args = {1, 2, 3, 4, 5, 6, 7}});
  EXPECT_EQ(error_text(seven), "syscall: 7 args; a system call takes at most 6: Invalid argument");
  auto slot = syscall({.nr = SYS_getpid, .bufs = {"x"}, .ptrs = {6}});
  EXPECT_EQ(error_text(slot), "syscall: ptrs[0] = 6 is not an arg slot (0-5): Invalid argument");
  auto twice = syscall({.nr = SYS_getpid, .bufs = {"x", "y"}, .ptrs = {1, 1}});
  EXPECT_EQ(error_text(twice), "syscall: two bufs for arg slot 1: Invalid argument");
  auto unpaired = syscall({.nr = SYS_getpid, .bufs = {"x"}});
  EXPECT_EQ(error_text(unpaired),
            "syscall: 1 bufs but 0 ptrs; each buf needs the arg slot that receives its address: Invalid argument");
  auto no_room = client_->call([&](wire::Request::Builder r) {
    auto ioctl = r.initIoctl();
    ioctl.setFd(0);
    ioctl.setCmd(FIONREAD);
    ioctl.setData(as_data(std::string(4, '\0')));
    ioctl.initBufs(1);
    ioctl.initPtrOffsets(1).set(0, 0);
  });
  EXPECT_EQ(error_text(no_room),
            "ioctl: ptrOffsets[0] = 0 leaves no room for an address in 4 bytes of data: Invalid argument");
}

}  // namespace
