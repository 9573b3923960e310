// Boots the bundled default guest (build/guest/) under QEMU with TCG and drives
// the agent over virtio-serial. The agent channel is one end of a socketpair
// handed to QEMU as an inherited fd (-chardev socket,fd=N), the way the
// supervisor wants to do it. Skipped when QEMU or the guest is not built.
#include "agent_test_client.h"
#include "subprocess.h"
#include "unique_fd.h"

#include <gtest/gtest.h>

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <sys/un.h>

#include <stdexcept>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <cstdio>
#include <iostream>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace {

using namespace std::chrono_literals;
using provium::agent_test::AgentTestClient;
using provium::agent_test::Response;
namespace wire = provium::wire::agent;
namespace fs = std::filesystem;

constexpr int kAgentFdInQemu = 3;

std::string guest_dir() {
  const char* dir = std::getenv("PROVIUM_GUEST_DIR");
  return dir != nullptr ? dir : "guest";
}

std::string read_binary(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

std::string read_text(const fs::path& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  std::string text = content.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// A newc cpio member list, enough to build a test initrd in memory.
class CpioWriter {
 public:
  void add_file(const std::string& name, const std::string& content, unsigned mode) {
    add(name, content, 0100000 | mode);
  }
  std::string finish() {
    add("TRAILER!!!", "", 0);
    return std::move(out_);
  }

 private:
  void add(const std::string& name, const std::string& content, unsigned mode) {
    char header[111];
    std::snprintf(header, sizeof header, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ++inode_, mode,
                  0u, 0u, 1u, 0u, static_cast<unsigned>(content.size()), 0u, 0u, 0u, 0u,
                  static_cast<unsigned>(name.size() + 1), 0u);
    out_ += header;
    out_ += name;
    out_.push_back('\0');
    pad();
    out_ += content;
    pad();
  }
  void pad() { out_.append((4 - out_.size() % 4) % 4, '\0'); }

  std::string out_;
  unsigned inode_ = 100;
};

class BootedGuest : public ::testing::Test {
 protected:
  struct BootOptions {
    std::string initrd;             // default: <guest>/initramfs.cpio
    std::string extra_cmdline;
    std::string agent_socket_path;  // non-empty: a unix socket server instead of a socketpair fd
  };

  void SetUp() override {
    dir_ = guest_dir();
    auto qemu = provium::find_program("qemu-system-x86_64");
    if (!qemu) GTEST_SKIP() << "qemu-system-x86_64 not installed";
    qemu_path_ = *qemu;
    if (!fs::exists(dir_ / "vmlinux") || !fs::exists(dir_ / "initramfs.cpio")) {
      GTEST_SKIP() << "no default guest in " << dir_ << " (build the default-guest target)";
    }
    scratch_ = fs::temp_directory_path() / ("provium-agent-boot-" + std::to_string(::getpid()));
    fs::create_directories(scratch_);
    console_log_ = (scratch_ / "console.log").string();
  }

  // Starts QEMU; with a socketpair channel also connects the client.
  void boot(const BootOptions& options = {}) {
    std::vector<std::string> argv = {
        qemu_path_, "-M", "microvm", "-accel", "tcg", "-cpu", "qemu64", "-m", "256", "-smp", "1",
        "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
        "-kernel", (dir_ / "vmlinux").string(),
        "-initrd", options.initrd.empty() ? (dir_ / "initramfs.cpio").string() : options.initrd,
        "-append", read_text(dir_ / "cmdline") + options.extra_cmdline,
        "-serial", "file:" + console_log_,
        "-device", "virtio-serial-device",
        "-device", "virtserialport,chardev=agent,name=agent"};
    provium::SpawnSpec spec;
    spec.env = {"PATH=/usr/bin:/bin"};
    spec.fds = {{2, STDERR_FILENO}};
    provium::agent::UniqueFd qemu_end;
    if (options.agent_socket_path.empty()) {
      int fds[2];
      ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
      host_end_ = provium::agent::UniqueFd(fds[0]);
      qemu_end = provium::agent::UniqueFd(fds[1]);
      argv.insert(argv.end(), {"-chardev", "socket,id=agent,fd=" + std::to_string(kAgentFdInQemu)});
      spec.fds.push_back({kAgentFdInQemu, qemu_end.get()});
    } else {
      argv.insert(argv.end(), {"-chardev", "socket,id=agent,path=" + options.agent_socket_path + ",server=on,wait=off"});
    }
    spec.argv = argv;
    started_ = std::chrono::steady_clock::now();
    qemu_ = std::make_unique<provium::Subprocess>(provium::Subprocess::spawn(spec));
    if (host_end_.valid()) client_.emplace(host_end_.get());
  }

  // Boots the default guest and waits for helloOk.
  void boot_and_greet() {
    boot();
    // The hello waits in the socket until the agent opens its port.
    auto hello = client_->hello();
    boot_time_ = std::chrono::steady_clock::now() - started_;
    ASSERT_TRUE(hello->isHelloOk()) << console();
  }

  void expect_chained_boot(const std::string& initrd);

  void expect_qemu_exits(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (qemu_->running() && std::chrono::steady_clock::now() < deadline) {
      qemu_->poll();
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_FALSE(qemu_->running()) << "QEMU still running " << limit.count() << " s later";
  }

  void TearDown() override {
    if (qemu_ && qemu_->running()) qemu_->kill_and_wait();
    if (HasFailure()) std::cerr << "guest console:\n" << console() << "\n";
    if (!scratch_.empty()) fs::remove_all(scratch_);
  }

  std::string console() { return read_text(console_log_); }

  // Runs a counting shell pipeline in the guest until it prints 0 (or a
  // minute passes); returns the last count. For states the guest reaches
  // asynchronously, such as a killed process being reaped.
  int poll_guest_count(const std::string& pipeline) {
    int count = -1;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    do {
      const std::string out = client_->run({.argv = {"sh", "-c", pipeline}}).stdout_text();
      count = out.empty() ? -1 : std::atoi(out.c_str());
      if (count == 0) break;
      std::this_thread::sleep_for(50ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return count;
  }

  fs::path dir_;
  fs::path scratch_;
  std::string qemu_path_;
  std::string console_log_;
  provium::agent::UniqueFd host_end_;
  std::unique_ptr<provium::Subprocess> qemu_;
  std::optional<AgentTestClient> client_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::duration boot_time_{};
};

TEST_F(BootedGuest, ServesEveryRequestKindAndPowersOff) {
  boot_and_greet();
  std::cout << "qemu start -> helloOk: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(boot_time_).count() << " ms" << std::endl;

  EXPECT_TRUE(client_->ping()->isPong());

  auto uname = client_->run({.argv = {"uname", "-a"}});
  ASSERT_TRUE(uname->isRun());
  EXPECT_EQ(uname->getRun().getExitCode(), 0);
  EXPECT_NE(uname.stdout_text().find("Linux"), std::string::npos) << uname.stdout_text();
  std::cout << "guest: " << uname.stdout_text();
  if (std::getenv("PROVIUM_SHOW_GUEST_DMESG") != nullptr) {
    std::cout << client_->run({.argv = {"sh", "-c", "cat /proc/uptime; dmesg | tail -n 25"}}).stdout_text();
  }

  // PID 1 duties: pseudo filesystems, PATH, modules.
  auto mounts = client_->read_file("/proc/mounts");
  ASSERT_TRUE(mounts->isData());
  const std::string mount_table(reinterpret_cast<const char*>(mounts->getData().begin()), mounts->getData().size());
  for (const char* target : {" /proc ", " /sys ", " /dev ", " /dev/pts ", " /tmp ", " /run "}) {
    EXPECT_NE(mount_table.find(target), std::string::npos) << target << " not mounted:\n" << mount_table;
  }
  auto modules = client_->run({.argv = {"sh", "-c", "echo $PATH; cut -d' ' -f1 /proc/modules | sort | tr '\\n' ' '"}});
  EXPECT_EQ(modules.stdout_text().substr(0, modules.stdout_text().find('\n')), "/bin:/sbin:/usr/bin:/usr/sbin");
  EXPECT_NE(modules.stdout_text().find("virtio_console"), std::string::npos) << modules.stdout_text();

  // A timeout kills the whole group: TIMED_OUT rather than an exit 1000 s
  // later, and no sleep left alive (killed ones may linger as zombies until
  // PID 1 reaps them, which the next check covers).
  auto timed_out = client_->run({.argv = {"sh", "-c", "sleep 1000 & sleep 1000"}, .timeout_ms = 200}, 60s);
  EXPECT_EQ(timed_out->getRun().getStatus(), wire::RunStatus::TIMED_OUT);
  EXPECT_EQ(timed_out->getRun().getExitCode(), -2);
  EXPECT_EQ(poll_guest_count("ps -o stat,comm | grep -v '^Z' | grep -c 'sleep$' || true"), 0)
      << "a sleep outlived its run's timeout";

  // As PID 1 the agent reaps orphans (a daemonised grandchild here).
  client_->run({.argv = {"sh", "-c", "(sleep 0.2 &) ; true"}});
  EXPECT_EQ(poll_guest_count("ps -o stat,comm | grep -c '^Z\\|sleep$' || true"), 0)
      << "an orphan was left unreaped";

  // A ping is answered while a run waits for a gate that opens only after it.
  const auto waiting = client_->send_run({.argv = {"sh", "-c", "while [ ! -e /tmp/gate ]; do sleep 0.05; done"}});
  EXPECT_TRUE(client_->ping()->isPong());
  ASSERT_TRUE(client_->write_file("/tmp/gate", "")->isDone());
  EXPECT_EQ(client_->wait(waiting, 60s)->getRun().getExitCode(), 0);

  // Files round-trip.
  ASSERT_TRUE(client_->write_file("/tmp/hello.txt", "from the host\n", 0640)->isDone());
  auto listing = client_->run({.argv = {"sh", "-c", "stat -c %a /tmp/hello.txt; cat /tmp/hello.txt"}});
  EXPECT_EQ(listing.stdout_text(), "640\nfrom the host\n");
  auto read = client_->read_file("/tmp/hello.txt");
  ASSERT_TRUE(read->isData());
  EXPECT_EQ(read->getData().size(), 14u);

  // powerOff ends QEMU.
  EXPECT_TRUE(client_->power_off()->isDone());
  expect_qemu_exits(60s);
}

std::string data_text(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

std::string error_text(const Response& response) {
  return response->isError() ? std::string(response->getError().getMessage().cStr()) : "(not an error)";
}

// The guest-operation surface in a real guest, where the agent is PID 1.
TEST_F(BootedGuest, ServesPathsHandlesLayer0ClockProcessesAndWorkers) {
  boot_and_greet();

  // Op round trip: the cost of one small request, end to end.
  constexpr int kRounds = 200;
  const auto pings_started = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) ASSERT_TRUE(client_->ping()->isPong());
  const auto ping_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                             pings_started).count() / kRounds;
  const auto stats_started = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) ASSERT_TRUE(client_->stat("/proc/1/status")->isStat());
  const auto stat_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                             stats_started).count() / kRounds;
  std::cout << "round trip: ping " << ping_us << " us, stat " << stat_us << " us (mean of " << kRounds << ")"
            << std::endl;

  // stat and listdir of PID 1's /proc entries.
  auto proc1 = client_->stat("/proc/1");
  ASSERT_TRUE(proc1->isStat()) << error_text(proc1);
  EXPECT_EQ(proc1->getStat().getEntryType(), wire::EntryType::DIRECTORY);
  EXPECT_EQ(client_->stat("/proc/1/exe")->getStat().getEntryType(), wire::EntryType::SYMLINK);
  EXPECT_EQ(client_->stat("/proc/1/status")->getStat().getEntryType(), wire::EntryType::FILE);
  EXPECT_EQ(client_->stat("/dev/console")->getStat().getEntryType(), wire::EntryType::CHAR_DEVICE);
  auto listing = client_->listdir("/proc/1");
  ASSERT_TRUE(listing->isDirEntries()) << error_text(listing);
  std::map<std::string, wire::EntryType> entries;
  for (auto entry : listing->getDirEntries()) entries[entry.getName().cStr()] = entry.getEntryType();
  EXPECT_EQ(entries["exe"], wire::EntryType::SYMLINK);
  EXPECT_EQ(entries["fd"], wire::EntryType::DIRECTORY);
  EXPECT_EQ(entries["status"], wire::EntryType::FILE);
  EXPECT_EQ(client_->stat("/no/such")->getError().getErrno(), ENOENT);

  // mkdir / handles / rename / unlink on the guest's tmpfs.
  ASSERT_TRUE(client_->mkdir("/tmp/a/b", true, 0700)->isDone());
  auto handle = client_->open_file("/tmp/a/b/f", wire::OPEN_WRITE | wire::OPEN_CREATE, 0600);
  ASSERT_TRUE(handle->isHandle()) << error_text(handle);
  EXPECT_EQ(client_->file_write(handle->getHandle(), "guest bytes")->getWritten(), 11u);
  EXPECT_TRUE(client_->file_close(handle->getHandle())->isDone());
  EXPECT_TRUE(client_->rename("/tmp/a/b/f", "/tmp/a/g")->isDone());
  EXPECT_EQ(client_->stat("/tmp/a/g")->getStat().getPerm(), 0600u);
  EXPECT_EQ(client_->stat("/tmp/a/b")->getStat().getPerm(), 0700u);
  EXPECT_TRUE(client_->unlink("/tmp/a/g")->isDone());

  // Layer 0: the agent is PID 1.
  auto pid = client_->call([](wire::Request::Builder r) { r.initSyscall().setNr(SYS_getpid); });
  ASSERT_TRUE(pid->isSyscall()) << error_text(pid);
  EXPECT_EQ(pid->getSyscall().getRet(), 1);
  // ioctl on a tty: the console's termios (TCGETS) and window size.
  auto tty = client_->open_file("/dev/console", wire::OPEN_READ | wire::OPEN_WRITE);
  ASSERT_TRUE(tty->isHandle()) << error_text(tty);
  auto termios = client_->call([&](wire::Request::Builder r) {
    auto ioctl = r.initIoctl();
    ioctl.setFd(static_cast<std::int32_t>(tty->getHandle()));
    ioctl.setCmd(TCGETS);
    ioctl.setData(kj::heapArray<kj::byte>(sizeof(struct termios)));
  });
  ASSERT_TRUE(termios->isIoctl()) << error_text(termios);
  EXPECT_EQ(termios->getIoctl().getRet(), 0) << "errno " << termios->getIoctl().getErrno();
  struct termios settings {};
  std::memcpy(&settings, termios->getIoctl().getOutData().begin(), sizeof settings);
  EXPECT_NE(settings.c_cflag & CREAD, 0u) << "no termios came back";
  auto status_file = client_->open_file("/proc/1/status", wire::OPEN_READ);
  auto not_a_tty = client_->call([&](wire::Request::Builder r) {
    auto ioctl = r.initIoctl();
    ioctl.setFd(static_cast<std::int32_t>(status_file->getHandle()));
    ioctl.setCmd(TCGETS);
    ioctl.setData(kj::heapArray<kj::byte>(sizeof(struct termios)));
  });
  EXPECT_EQ(not_a_tty->getIoctl().getErrno(), ENOTTY);

  // The clock: set, read back, seen by commands, advanced by get + set.
  constexpr std::int64_t k2030 = 1'893'456'000'000'000'000;  // 2030-01-01T00:00:00Z
  auto set = client_->clock_set(k2030);
  ASSERT_TRUE(set->isDone()) << error_text(set);
  auto now = client_->clock_get();
  ASSERT_TRUE(now->isClock());
  EXPECT_GE(now->getClock().getRealtimeNs(), k2030);
  EXPECT_LT(now->getClock().getRealtimeNs(), k2030 + 5'000'000'000);
  EXPECT_EQ(client_->run({.argv = {"date", "-u", "+%Y"}}).stdout_text(), "2030\n");
  ASSERT_TRUE(client_->clock_set(client_->clock_get()->getClock().getRealtimeNs() - 86'400'000'000'000)->isDone());
  EXPECT_EQ(client_->run({.argv = {"date", "-u", "+%Y-%m-%d"}}).stdout_text(), "2029-12-31\n");
  EXPECT_EQ(client_->clock_set(-1)->getError().getErrno(), EINVAL);

  // A spawned process, its stdin and its output stream; a tail via inotify.
  auto cat = client_->spawn({.argv = {"cat"}}, 1 << 20);
  ASSERT_TRUE(cat->isProcessStarted()) << error_text(cat);
  const auto process = cat->getProcessStarted().getProcess();
  EXPECT_EQ(client_->process_write(process, "through the guest\n")->getWritten(), 18u);
  EXPECT_TRUE(client_->process_close_stdin(process)->isDone());
  EXPECT_EQ(client_->read_stream(cat->getProcessStarted().getStdoutStream(), 1 << 20, 1 << 20).data,
            "through the guest\n");
  EXPECT_EQ(client_->process_wait(process, 5000)->getProcessState().getExitCode(), 0);

  ASSERT_TRUE(client_->write_file("/tmp/log", "old\n")->isDone());
  auto tail = client_->tail_file("/tmp/log", wire::TailOrigin::END, 0, 1 << 20);
  ASSERT_TRUE(tail->isStreamStarted()) << error_text(tail);
  client_->run({.argv = {"sh", "-c", "echo appended >> /tmp/log"}});
  // Other streams (cat's stderr ending) may report first; wait for the tail's own data.
  EXPECT_EQ(client_->next_data(tail->getStreamStarted().getStream()), "appended\n");
  EXPECT_TRUE(client_->stream_close(tail->getStreamStarted().getStream())->isDone());

  // A worker with another user's credentials.
  auto worker = client_->spawn_worker(65534, 65534);
  ASSERT_TRUE(worker->isWorkerStarted()) << error_text(worker) << console();
  client_->worker = worker->getWorkerStarted().getWorker();
  EXPECT_EQ(client_->run({.argv = {"id", "-u"}}).stdout_text(), "65534\n");
  client_->worker = 0;
  EXPECT_TRUE(client_->close_worker(worker->getWorkerStarted().getWorker())->isDone());

  EXPECT_TRUE(client_->power_off()->isDone());
  expect_qemu_exits(60s);
}

// Files bigger than a frame come through a stream with bounded buffers.
TEST_F(BootedGuest, StreamsA64MiBFile) {
  boot_and_greet();
  constexpr std::uint64_t kSize = 64u << 20;
  auto made = client_->run({.argv = {"sh", "-c", "head -c 67108864 /dev/urandom > /tmp/big && md5sum /tmp/big"},
                            .timeout_ms = 120000});
  ASSERT_EQ(made->getRun().getExitCode(), 0) << made.stderr_text();
  const std::string guest_md5 = made.stdout_text().substr(0, 32);

  const auto started = std::chrono::steady_clock::now();
  auto opened = client_->read_file_stream("/tmp/big", 8u << 20);
  ASSERT_TRUE(opened->isStreamStarted()) << error_text(opened);
  EXPECT_EQ(opened->getStreamStarted().getSize(), kSize);
  auto capture = client_->read_stream(opened->getStreamStarted().getStream(), 8u << 20, 8u << 20, 300s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(capture.data.size(), kSize);
  EXPECT_EQ(capture.reason, wire::StreamEndReason::SOURCE_ENDED);
  std::cout << "64 MiB through readFileStream (TCG, virtio-serial, 8 MiB window): " << seconds << " s, "
            << static_cast<int>(64 / seconds) << " MiB/s" << std::endl;

  // Compare with the guest's own checksum.
  const std::string host_file = (scratch_ / "big").string();
  std::ofstream(host_file, std::ios::binary) << capture.data;
  provium::SpawnSpec md5;
  const std::string out_file = (scratch_ / "md5").string();
  md5.argv = {provium::find_program("sh").value_or("/bin/sh"), "-c", "md5sum " + host_file + " > " + out_file};
  md5.env = {"PATH=/usr/bin:/bin"};
  ASSERT_EQ(provium::Subprocess::spawn(md5).wait().code, 0);
  EXPECT_EQ(read_text(out_file).substr(0, 32), guest_md5);

  auto rss = client_->read_file("/proc/1/status");
  const std::string status = data_text(rss->getData());
  const auto peak = status.find("VmHWM:");
  ASSERT_NE(peak, std::string::npos);
  std::cout << "agent (PID 1) " << status.substr(peak, status.find('\n', peak) - peak) << std::endl;
  EXPECT_TRUE(client_->power_off()->isDone());
  expect_qemu_exits(60s);
}

TEST_F(BootedGuest, BigOutputAndGarbageDoNotHurtTheAgent) {
  boot_and_greet();
  auto big = client_->run({.argv = {"head", "-c", "40000000", "/dev/zero"}});
  ASSERT_TRUE(big->isRun());
  EXPECT_EQ(big->getRun().getStdout().size(), (32u << 20) - 2048);
  EXPECT_NE(big.stderr_text().find("stdout truncated"), std::string::npos);

  const unsigned char ragged[] = {5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'};
  client_->send_raw(ragged, sizeof ragged);
  auto error = client_->next();
  ASSERT_TRUE(error->isError());
  EXPECT_EQ(error->getId(), 0u);
  EXPECT_TRUE(client_->ping()->isPong());
}

// busybox's poweroff signals PID 1 instead of calling reboot(2) itself.
TEST_F(BootedGuest, BusyboxPoweroffEndsQemu) {
  boot_and_greet();
  client_->send_run({.argv = {"poweroff"}});
  expect_qemu_exits(60s);
}

// The agent's PID 1 must never die: the kernel would panic. A panic must end
// QEMU (panic=-1 with -no-reboot) rather than hang.
TEST_F(BootedGuest, KernelPanicEndsQemu) {
  boot({.extra_cmdline = " rdinit=/no/such/init"});
  expect_qemu_exits(60s);
  EXPECT_NE(console().find("Kernel panic"), std::string::npos) << "panic message not on the console";
}

// With a unix socket chardev the host can go away and come back (e.g. a
// restarted supervisor); the agent must notice both.
TEST_F(BootedGuest, ServesAHostThatReconnects) {
  const std::string path = (scratch_ / "agent.sock").string();
  boot({.agent_socket_path = path});
  auto connect_once = [&]() {
    provium::agent::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      if (std::chrono::steady_clock::now() > deadline) return provium::agent::UniqueFd();
      std::this_thread::sleep_for(10ms);
    }
    return fd;
  };
  {
    auto first = connect_once();
    ASSERT_TRUE(first.valid());
    AgentTestClient client(first.get());
    ASSERT_TRUE(client.hello()->isHelloOk()) << console();
    client.send_run({.argv = {"sleep", "0.3"}});  // its result must not reach the next host
  }
  for (int round = 0; round < 2; ++round) {
    // Round 0 reconnects at once (the guest may never see a hang-up; the new
    // hello ends the old session), round 1 after a pause (it does see one).
    if (round == 1) std::this_thread::sleep_for(100ms);
    auto again = connect_once();
    ASSERT_TRUE(again.valid());
    AgentTestClient client(again.get());
    auto hello = client.hello();
    ASSERT_TRUE(hello->isHelloOk()) << console();
    EXPECT_TRUE(client.ping()->isPong());
    // The first host's run result must not arrive here.
    try {
      auto stray = client.next(700ms);
      ADD_FAILURE() << "round " << round << ": unexpected response id " << stray->getId() << " kind "
                    << static_cast<int>(stray->which());
    } catch (const std::runtime_error&) {
    }
  }
}

// A user's initrd with its own /init plus the agent overlay, booted with
// rdinit=/sbin/provium-agent: the user's init keeps PID 1, the agent serves
// beside it. Stand-in for the user's initrd: the default one (for busybox and
// the modules), with /init replaced by a script.
std::string user_initrd(const fs::path& guest) {
  CpioWriter user_init;
  user_init.add_file("init",
                     "#!/bin/sh\n"
                     "echo \"user init is pid $$\" > /run/user-init\n"
                     "exec sleep 100000\n",
                     0755);
  return read_binary(guest / "initramfs.cpio") + user_init.finish();
}

void BootedGuest::expect_chained_boot(const std::string& initrd) {
  const std::string initrd_path = (scratch_ / "chained.img").string();
  std::ofstream(initrd_path, std::ios::binary) << initrd;
  boot({.initrd = initrd_path, .extra_cmdline = " rdinit=/sbin/provium-agent"});
  ASSERT_TRUE(client_->hello()->isHelloOk()) << console();
  auto who = client_->run({.argv = {"sh", "-c",
      "cat /run/user-init; tr '\\0' ' ' < /proc/1/cmdline; echo; "
      "readlink /proc/$PPID/exe; test $PPID != 1 && echo agent-not-pid1"}});
  EXPECT_EQ(who.stdout_text(), "user init is pid 1\nsleep 100000 \n/sbin/provium-agent\nagent-not-pid1\n")
      << who.stderr_text();
  EXPECT_TRUE(client_->power_off()->isDone());
  expect_qemu_exits(60s);
}

TEST_F(BootedGuest, ChainsToTheUsersInit) {
  expect_chained_boot(user_initrd(dir_) + read_binary(dir_ / "agent-overlay.cpio"));
}

// The usual case: a gzip-compressed initrd with the uncompressed overlay
// appended. The kernel aligns cpio headers to 4 bytes from the start of the
// whole image, so the compressed part is zero-padded to a multiple of 4 first.
TEST_F(BootedGuest, ChainsToAGzipInitrdWithTheOverlayAppended) {
  const fs::path plain = scratch_ / "user.cpio";
  std::ofstream(plain, std::ios::binary) << user_initrd(dir_);
  provium::SpawnSpec gzip;
  gzip.argv = {provium::find_program("gzip").value_or("/bin/gzip"), "-f", plain.string()};
  gzip.env = {"PATH=/usr/bin:/bin"};
  ASSERT_EQ(provium::Subprocess::spawn(gzip).wait().code, 0);
  std::string initrd = read_binary(plain.string() + ".gz");
  initrd.append((4 - initrd.size() % 4) % 4, '\0');
  expect_chained_boot(initrd + read_binary(dir_ / "agent-overlay.cpio"));
}

}  // namespace
