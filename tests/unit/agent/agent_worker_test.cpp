// Workers against the real agent binary: separate agent processes with their
// own credentials and their own id spaces, serving concurrently with the main
// agent. Needs root (to change credentials).
#include "agent_protocol_fixture.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace {

using namespace std::chrono_literals;
using namespace provium::agent_test;
namespace wire = provium::wire::agent;

constexpr std::uint32_t kNobody = 65534;

class Workers : public AgentProtocol {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "workers change credentials: needs root";
    AgentProtocol::SetUp();
  }
  wire::WorkerStarted::Reader start(std::uint32_t uid, std::uint32_t gid, const std::vector<std::uint32_t>& groups = {}) {
    auto response = client_->spawn_worker(uid, gid, groups);
    EXPECT_TRUE(response->isWorkerStarted()) << error_text(response);
    started_ = std::make_unique<Response>(std::move(response));
    return (*started_)->getWorkerStarted();
  }
  std::unique_ptr<Response> started_;
};

TEST_F(Workers, AWorkerRunsAsItsUserAndNamesItself) {
  const auto worker = start(kNobody, kNobody, {100, 200});
  EXPECT_EQ(worker.getWorker(), 1u);
  EXPECT_GT(worker.getPid(), 0);
  client_->worker = worker.getWorker();
  auto ids = client_->run({.argv = {"sh", "-c", "id -u; id -g; id -G"}});
  ASSERT_TRUE(ids->isRun()) << error_text(ids);
  EXPECT_EQ(ids->getWorker(), worker.getWorker());
  EXPECT_EQ(ids.stdout_text(), "65534\n65534\n65534 100 200\n");
  auto pid = client_->call([](wire::Request::Builder r) {
    auto call = r.initSyscall();
    call.setNr(SYS_getpid);
  });
  EXPECT_EQ(pid->getSyscall().getRet(), worker.getPid());
  client_->worker = 0;
  EXPECT_EQ(client_->run({.argv = {"id", "-u"}}).stdout_text(), "0\n");
}

TEST_F(Workers, FileOperationsUseTheWorkersCredentials) {
  const std::string secret = scratch("secret");
  write_host_file(secret, "root only");
  ASSERT_EQ(::chmod(secret.c_str(), 0600), 0);
  ASSERT_EQ(::chmod(scratch().c_str(), 0755), 0);
  client_->worker = start(kNobody, kNobody).getWorker();
  auto open = client_->open_file(secret, wire::OPEN_READ);
  ASSERT_TRUE(open->isError());
  EXPECT_EQ(open->getError().getErrno(), EACCES);
  EXPECT_EQ(open->getWorker(), 1u);
  EXPECT_EQ(error_text(open), "openFile `" + secret + "`: Permission denied");
  EXPECT_EQ(client_->read_file(secret)->getError().getErrno(), EACCES);
  EXPECT_EQ(client_->mkdir(scratch("by-nobody"), false)->getError().getErrno(), EACCES);
  EXPECT_TRUE(client_->stat(secret)->isStat());
}

// The worker blocks in open(2) of a FIFO until the host opens its other end,
// which the host does only after the main agent answered a ping.
TEST_F(Workers, AWorkerBlockedInASyscallDoesNotStallTheMainAgent) {
  const std::string fifo = scratch("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  client_->worker = start(0, 0).getWorker();
  const std::string path = fifo + '\0';
  const auto blocked = client_->send([&](wire::Request::Builder r) {
    auto call = r.initSyscall();
    call.setNr(SYS_openat);
    auto args = call.initArgs(3);
    args.set(0, AT_FDCWD);
    args.set(2, O_RDONLY);
    call.initBufs(1).set(0, capnp::Data::Reader(reinterpret_cast<const kj::byte*>(path.data()), path.size()));
    call.initPtrs(1).set(0, 1);
  });
  client_->worker = 0;
  EXPECT_TRUE(client_->ping()->isPong());
  provium::agent::UniqueFd writer(::open(fifo.c_str(), O_WRONLY | O_CLOEXEC));  // releases the worker
  ASSERT_TRUE(writer.valid());
  auto opened = client_->wait(blocked);
  ASSERT_TRUE(opened->isSyscall()) << error_text(opened);
  EXPECT_GE(opened->getSyscall().getRet(), 0) << "errno " << opened->getSyscall().getErrno();
}

TEST_F(Workers, WorkerStreamsAndHandlesHaveTheirOwnIds) {
  const auto worker = start(0, 0).getWorker();
  client_->worker = worker;
  auto proc = client_->spawn({.argv = {"echo", "from the worker"}}, 1 << 20);
  ASSERT_TRUE(proc->isProcessStarted()) << error_text(proc);
  EXPECT_EQ(proc->getWorker(), worker);
  auto event = client_->next_event(60s);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->get().getWorker(), worker);
  // The main agent has no such stream.
  const auto stream = proc->getProcessStarted().getStdoutStream();
  client_->worker = 0;
  EXPECT_EQ(client_->stream_close(stream)->getError().getErrno(), ENOENT);
  client_->worker = worker;
  EXPECT_TRUE(client_->stream_close(stream)->isDone());
}

TEST_F(Workers, WorkersRefusePowerOffAndWorkersOfTheirOwn) {
  client_->worker = start(0, 0).getWorker();
  auto power = client_->power_off();
  ASSERT_TRUE(power->isError());
  EXPECT_EQ(power->getError().getErrno(), ENOTSUP);
  EXPECT_EQ(error_text(power),
            "powerOff: worker 1 cannot power the guest off; send it to the main agent (worker 0): Operation not supported");
  auto nested = client_->spawn_worker(0, 0);
  EXPECT_EQ(error_text(nested), "spawnWorker: worker 1 cannot have workers of its own: Operation not supported");
  EXPECT_TRUE(client_->ping()->isPong());
}

TEST_F(Workers, ClosingAWorkerEndsItAndItsProcesses) {
  const auto worker = start(0, 0);
  const pid_t worker_pid = worker.getPid();
  client_->worker = worker.getWorker();
  auto proc = client_->spawn({.argv = {"sleep", "30"}}, 0);
  const pid_t sleeper = proc->getProcessStarted().getPid();
  client_->worker = 0;
  // The agent under test waits 60 s before it kills a closed worker.
  const auto before = std::chrono::steady_clock::now();
  auto closed = client_->close_worker(worker.getWorker());
  ASSERT_TRUE(closed->isDone()) << error_text(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 30s) << "the worker did not stop by itself";
  EXPECT_TRUE(wait_until_gone(worker_pid, 60s));
  EXPECT_TRUE(wait_until_gone(sleeper, 60s)) << "the worker's process outlived it";
  client_->worker = worker.getWorker();
  EXPECT_EQ(client_->ping()->getError().getErrno(), ENOENT);
  client_->worker = 0;
  EXPECT_EQ(client_->close_worker(99)->getError().getErrno(), ENOENT);
}

TEST_F(Workers, ADeadWorkersUnansweredRequestsGetErrors) {
  const auto worker = start(0, 0);
  client_->worker = worker.getWorker();
  const auto slow = client_->send_run({.argv = {"sleep", "10"}});
  EXPECT_TRUE(client_->ping()->isPong());
  ASSERT_EQ(::kill(worker.getPid(), SIGKILL), 0);
  auto failed = client_->wait(slow, 60s);
  ASSERT_TRUE(failed->isError());
  EXPECT_NE(error_text(failed).find("worker 1 (pid " + std::to_string(worker.getPid()) + ") went away"),
            std::string::npos)
      << error_text(failed);
}

TEST_F(Workers, ANewSessionStopsTheWorkers) {
  const pid_t pid = start(0, 0).getPid();
  EXPECT_TRUE(client_->hello()->isHelloOk());
  EXPECT_TRUE(wait_until_gone(pid, 60s));
  client_->worker = 1;
  EXPECT_EQ(client_->ping()->getError().getErrno(), ENOENT);
}

TEST_F(Workers, TooManyGroupsAreRefusedUpFront) {
  std::vector<std::uint32_t> groups(70000, 1);
  auto response = client_->spawn_worker(0, 0, groups);
  ASSERT_TRUE(response->isError());
  EXPECT_EQ(error_text(response), "spawnWorker: more than 65536 groups: Invalid argument");
}

// An agent that is not root cannot give a worker other credentials: the
// worker fails before serving, and spawnWorker says so.
TEST_F(Workers, AWorkerThatCannotTakeItsCredentialsFailsToStart) {
  agent_->kill_and_wait();
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  host_end_ = provium::agent::UniqueFd(fds[0]);
  provium::agent::UniqueFd agent_end(fds[1]);
  provium::SpawnSpec spec;
  spec.argv = {agent_binary(), "--connect-fd", "3"};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.fds = {{3, agent_end.get()}, {2, STDERR_FILENO}};
  spec.before_exec = []() -> const char* {
    const gid_t none[] = {kNobody};
    if (::setgroups(1, none) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
        ::setresuid(kNobody, kNobody, kNobody) != 0) {
      return "cannot become nobody";
    }
    return nullptr;
  };
  agent_ = std::make_unique<provium::Subprocess>(provium::Subprocess::spawn(spec));
  client_.emplace(host_end_.get());

  auto response = client_->spawn_worker(0, 0);
  ASSERT_TRUE(response->isError());
  EXPECT_NE(error_text(response).find("spawnWorker: worker 1 (pid "), std::string::npos) << error_text(response);
  EXPECT_NE(error_text(response).find(") went away before answering; see the guest console"), std::string::npos);
  EXPECT_TRUE(client_->ping()->isPong());
}

}  // namespace
