// The --vmm local sandbox for real: shell scripts run where the agent would,
// and LocalVm's lifecycle. Skipped where the host cannot make the sandbox
// (no user namespaces): preflight says why in that case.
#include "local_agent_spawn.h"
#include "local_launcher.h"
#include "local_rootfs.h"
#include "local_vm.h"

#include <cerrno>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace provium {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string read_all(int fd) {
  std::string out;
  char buffer[4096];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    out.append(buffer, static_cast<std::size_t>(got));
  }
  return out;
}

struct ScriptRun {
  ExitStatus status;
  std::string output;
};

class LocalSandbox : public ::testing::Test {
 protected:
  void SetUp() override {
    identity_ = plan_privilege_drop(false);
    if (auto why = probe_local_sandbox(identity_)) GTEST_SKIP() << "no local sandbox on this host: " << *why;
  }

  LocalSandboxSpec spec(const std::string& script, std::uint64_t memory = 64 << 20) {
    LocalSandboxSpec spec;
    spec.hostname = "box-1";
    spec.memory_bytes = memory;
    spec.identity = identity_;
    spec.argv = {"/bin/sh", "-c", script};
    spec.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    return spec;
  }

  ScriptRun run(const LocalSandboxSpec& spec) {
    SpawnedSandbox sandbox = spawn_in_local_sandbox(spec);
    ScriptRun result;
    result.output = read_all(sandbox.output.get());
    result.status = sandbox.process.wait();
    return result;
  }

  ScriptRun run(const std::string& script) { return run(spec(script)); }

  // One line of output per command; "yes"/"no" for tests.
  std::string answer(const std::string& script) {
    const ScriptRun result = run(script);
    EXPECT_TRUE(result.status.exited && result.status.code == 0) << result.status.describe() << result.output;
    std::string text = result.output;
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  }

  PrivilegeDrop identity_;
};

TEST_F(LocalSandbox, RootInsideWithItsOwnHostnameAndPid1) {
  EXPECT_EQ(answer("id -u; id -g; hostname; echo $$"), "0\n0\nbox-1\n1");
}

TEST_F(LocalSandbox, NotRootOutside) {
  // From the host, the sandbox's PID 1 runs as `nobody` (or as us when we are not root).
  SpawnedSandbox sandbox = spawn_in_local_sandbox(spec("exec sleep 60"));
  const fs::path children = fs::path("/proc") / std::to_string(sandbox.process.pid()) / "task" /
                            std::to_string(sandbox.process.pid()) / "children";
  std::string init_pid = slurp(children);
  ASSERT_FALSE(init_pid.empty()) << "the monitor has no child";
  init_pid = init_pid.substr(0, init_pid.find(' '));
  const std::string status = slurp(fs::path("/proc") / init_pid / "status");
  const uid_t outside = identity_.switch_user ? identity_.uid : ::geteuid();
  const std::string uid_line = "Uid:\t" + std::to_string(outside) + "\t" + std::to_string(outside);
  EXPECT_NE(status.find(uid_line), std::string::npos) << status;
  EXPECT_NE(status.find("NoNewPrivs:\t1"), std::string::npos) << status;
  // The monitor too; whatever capabilities either holds are in user
  // namespaces of their own, which own nothing of the host.
  const fs::path monitor = fs::path("/proc") / std::to_string(sandbox.process.pid());
  const std::string monitor_status = slurp(monitor / "status");
  EXPECT_NE(monitor_status.find(uid_line), std::string::npos) << monitor_status;
  EXPECT_NE(monitor_status.find("NoNewPrivs:\t1"), std::string::npos) << monitor_status;
  const fs::path ours = fs::read_symlink("/proc/self/ns/user");
  const fs::path monitor_ns = fs::read_symlink(monitor / "ns" / "user");
  const fs::path init_ns = fs::read_symlink(fs::path("/proc") / init_pid / "ns" / "user");
  EXPECT_NE(monitor_ns, ours);
  EXPECT_NE(init_ns, ours);
  EXPECT_NE(init_ns, monitor_ns) << "PID 1 is in a second, nested user namespace";
  sandbox.process.kill_and_wait();
}

TEST_F(LocalSandbox, OnlyTheSandboxRootIsVisible) {
  testing::TempDir secret_dir;
  secret_dir.write("secret", "s3cret");
  const std::string cwd = fs::current_path().string();
  const std::string home = std::getenv("HOME") ? std::getenv("HOME") : "/root";
  const std::string script = "ls -A /; echo --; ls -A /home /root /tmp /mnt; echo --; "
                             "for p in '" + secret_dir.path().string() + "/secret' '" + cwd + "' '" + home +
                             "/.bashrc' /etc/shadow /opt /srv /var/lib; do test -e \"$p\" && echo \"seen $p\"; done; "
                             "echo end";
  const std::string out = answer(script);
  const std::string listing = out.substr(0, out.find("\n--"));
  for (const char* unexpected : {"work", "opt", "srv", "boot", "media", "snap", "nix"}) {
    EXPECT_EQ(("\n" + listing + "\n").find(std::string("\n") + unexpected + "\n"), std::string::npos)
        << "/" << unexpected << " is visible:\n" << listing;
  }
  EXPECT_NE(out.find("--\n/home:\n\n/mnt:\n\n/root:\n\n/tmp:\n--\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("seen"), std::string::npos) << out;
}

TEST_F(LocalSandbox, ProgramTreesAreReadOnlyAndStaySo) {
  const std::string out = answer(
      "touch /usr/x 2>/dev/null && echo wrote-usr; touch /etc/ld.so.cache 2>/dev/null && echo wrote-cache; "
      "mount -o remount,rw,bind /usr 2>/dev/null && echo remounted; "
      "umount -l /usr 2>/dev/null && echo unmounted; "
      "touch /tmp/x /root/x /x /etc/x /var/tmp/x /dev/shm/x && echo scratch-ok; echo end");
  EXPECT_EQ(out, "scratch-ok\nend");
}

TEST_F(LocalSandbox, OnlyItsOwnProcessesAndLoopback) {
  const std::string out = answer(
      "ls /proc | grep -c '^[0-9]'; tr '\\0' ' ' < /proc/1/cmdline; echo; "
      "awk 'NR > 2 { print $1 }' /proc/net/dev; grep -c . /proc/net/route");
  // sh, ls, grep (and perhaps one more) in the PID namespace; only lo, up, and no routes.
  std::istringstream lines(out);
  std::string count, cmdline, interfaces, routes;
  std::getline(lines, count);
  std::getline(lines, cmdline);
  std::getline(lines, interfaces);
  std::getline(lines, routes);
  EXPECT_LE(std::stoi(count), 5) << out;
  EXPECT_NE(cmdline.find("/bin/sh -c"), std::string::npos) << out;
  EXPECT_EQ(interfaces, "lo:") << out;
  EXPECT_EQ(routes, "1") << "only the header line: " << out;
}

TEST_F(LocalSandbox, NoPrivilegeOverTheHost) {
  const std::string out = answer(
      "{ echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null && echo dropped; "
      "hostname x && hostname; "  // its own UTS namespace: allowed
      "cat /dev/mem 2>/dev/null | head -c1 | wc -c; ls /dev | tr '\\n' ' '");
  EXPECT_EQ(out, "x\n0\nfd full null ptmx pts random shm stderr stdin stdout tty urandom zero ");
}

TEST_F(LocalSandbox, NoControllingTerminal) {
  // Even when provium runs in a terminal: the sandbox is a session of its own.
  EXPECT_EQ(answer("ps -o sid=,tty= -p 1 | tr -s ' '"), " 1 ?");
}

TEST_F(LocalSandbox, ScratchSpaceIsCappedByMemory) {
  const ScriptRun result = run(spec("head -c 3000000 /dev/zero > /tmp/big || echo full", 2 << 20));
  EXPECT_NE(result.output.find("No space left on device"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("full"), std::string::npos) << result.output;
}

TEST_F(LocalSandbox, FilesAreWrittenIntoTheRoot) {
  LocalSandboxSpec with_files = spec("cat /etc/app/app.conf; stat -c %a /etc/app/app.conf; cat /tmp/note");
  with_files.files = {{"/etc/app/app.conf", "port=80\n"}, {"/tmp/note", "hi"}};
  const ScriptRun result = run(with_files);
  EXPECT_EQ(result.output, "port=80\n644\nhi");
  with_files.files = {{"/usr/share/provium-should-not-exist", "x"}};
  try {
    run(with_files);
    FAIL() << "a file under read-only /usr was written";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("files: `/usr/share/provium-should-not-exist`: Read-only file system"),
              std::string::npos)
        << error.what();
  }
}

TEST_F(LocalSandbox, TheAgentBinaryIsCopiedIn) {
  testing::TempDir dir;
  const fs::path fake_agent = dir.write("fake-agent", "#!/bin/sh\necho \"agent $*\"; id -u\n");
  fs::permissions(fake_agent, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  LocalSandboxSpec agent = local_agent_spec("a", 64 << 20, identity_, fake_agent, {});
  const ScriptRun result = run(agent);
  EXPECT_EQ(result.output, "agent --connect-fd 3\n0\n");
  EXPECT_EQ(agent.argv.front(), kLocalAgentPath);
}

TEST_F(LocalSandbox, AFailingStepIsNamed) {
  LocalSandboxSpec bad = spec("true");
  bad.hostname = std::string(100, 'x');
  EXPECT_THROW(spawn_in_local_sandbox(bad), std::runtime_error);
  bad = local_agent_spec("a", 64 << 20, identity_, "/nonexistent/provium-agent", {});
  try {
    spawn_in_local_sandbox(bad);
    FAIL();
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent/provium-agent"), std::string::npos) << error.what();
  }
}

// ---- LocalVm ----

class LocalVmTest : public LocalSandbox {
 protected:
  ~LocalVmTest() noexcept override {}

  // PID 1 of the VM's sandbox, as the host sees it.
  pid_t init_pid_of(pid_t monitor) {
    const std::string text = slurp(fs::path("/proc") / std::to_string(monitor) / "task" / std::to_string(monitor) /
                                   "children");
    return text.empty() ? -1 : std::stoi(text);
  }

  // Processes running `sleep 6017` (ours: nothing else here sleeps that long).
  int sleepers() {
    int count = 0;
    for (const auto& entry : fs::directory_iterator("/proc")) {
      const std::string name = entry.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::string cmdline = slurp(entry.path() / "cmdline");
      for (char& c : cmdline) c = c == '\0' ? ' ' : c;
      if (cmdline == "sleep 6017 ") ++count;
    }
    return count;
  }

  void spin(kj::Duration duration) { io_.provider->getTimer().afterDelay(duration).wait(io_.waitScope); }

  kj::AsyncIoContext io_ = kj::setupAsyncIo();
};

TEST_F(LocalVmTest, ConsoleTailIsTheProgramsOutputAndKillLeavesNothing) {
  LocalVm vm(io_, "v", spec("echo to-stderr >&2; echo to-stdout; sleep 6017 & sleep 6017 & exec sleep 6017"));
  vm.wait_ready(5 * kj::SECONDS).wait(io_.waitScope);
  for (int i = 0; i < 3000 && vm.console_tail(1024).find("to-stdout") == std::string::npos; ++i) {
    spin(20 * kj::MILLISECONDS);
  }
  EXPECT_NE(vm.console_tail(1024).find("to-stderr\n"), std::string::npos);
  EXPECT_NE(vm.console_tail(1024).find("to-stdout\n"), std::string::npos);
  kj::AutoCloseFd channel = vm.agent_fd_for_runner();
  EXPECT_GE(channel.get(), 0);

  const pid_t init = init_pid_of(vm.monitor_pid());
  ASSERT_GT(init, 0);
  ASSERT_TRUE(fs::exists(fs::path("/proc") / std::to_string(init)));
  vm.kill();
  EXPECT_FALSE(vm.running());
  // The monitor reaped PID 1, which exits only once its whole PID namespace is gone.
  EXPECT_FALSE(fs::exists(fs::path("/proc") / std::to_string(init)));
  EXPECT_EQ(sleepers(), 0);
}

TEST_F(LocalVmTest, ShutdownTakesTheNamespaceDown) {
  LocalVm vm(io_, "v", spec("trap '' TERM HUP INT; sleep 6017 & exec sleep 6017"));
  vm.wait_ready(5 * kj::SECONDS).wait(io_.waitScope);
  // The shell starts both sleeps after the agent is ready; wait until they run.
  for (int i = 0; i < 3000 && sleepers() < 2; ++i) spin(20 * kj::MILLISECONDS);
  EXPECT_EQ(sleepers(), 2);
  const pid_t init = init_pid_of(vm.monitor_pid());
  vm.shutdown(5 * kj::SECONDS).wait(io_.waitScope);
  EXPECT_FALSE(vm.running());
  EXPECT_FALSE(fs::exists(fs::path("/proc") / std::to_string(init)));
  EXPECT_EQ(sleepers(), 0);
}

TEST_F(LocalVmTest, AnAgentThatDiesAtOnceFailsWaitReadyWithItsOutput) {
  LocalVm vm(io_, "v", spec("echo 'cannot serve: no channel' >&2; exit 3"));
  spin(200 * kj::MILLISECONDS);
  try {
    vm.wait_ready(5 * kj::SECONDS).wait(io_.waitScope);
    FAIL() << "ready although the agent exited";
  } catch (const kj::Exception& error) {
    const std::string text = error.getDescription().cStr();
    EXPECT_NE(text.find("VM `v`: the local agent exited during startup (exit code 3)"), std::string::npos) << text;
    EXPECT_NE(text.find("cannot serve: no channel"), std::string::npos) << text;
  }
}

TEST(LocalLauncher, RefusesWhatOnlyAKernelCouldDo) {
  VmRequest request;
  request.cmdline = "quiet";
  EXPECT_THROW(check_local_request(request), VmRequestError);
  request = VmRequest{};
  request.initial_time_ns = 0;
  EXPECT_THROW(check_local_request(request), VmRequestError);
  request = VmRequest{};
  request.rng_seed = 7;
  try {
    check_local_request(request);
    ADD_FAILURE() << "rng_seed accepted under --vmm local";
  } catch (const VmRequestError& error) {
    EXPECT_NE(std::string(error.what()).find("rng_seed: --vmm local"), std::string::npos) << error.what();
  }
  request = VmRequest{};
  request.memory_bytes = 128 << 20;
  request.cpus = 2;
  request.files = {{"/etc/x", "y"}};
  EXPECT_NO_THROW(check_local_request(request));
}

}  // namespace
}  // namespace provium
