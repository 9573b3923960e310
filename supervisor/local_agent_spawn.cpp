#include "local_agent_spawn.h"

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>

#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>  // ST_* values, which statfs() reports in f_flags
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "local_rootfs.h"

namespace provium {
namespace {

// Where the new root is built, in the sandbox's own mount namespace: a tmpfs
// mounted over it there hides nothing on the host.
constexpr const char* kStaging = "/tmp";
constexpr int kChannelFd = 3;

// Everything the forked children need, built before the fork: they only read
// it (no allocation, async-signal-safe calls only).
struct SandboxSetup {
  std::function<const char*()> drop_privileges;
  pid_t supervisor = 0;
  std::string outer_uid_map;  // "0 <uid> 1"
  std::string outer_gid_map;
  std::vector<RootStep> root;   // paths below kStaging
  std::vector<RootStep> files;  // paths in the finished root
  bool copies_agent = false;
  std::string hostname;
  bool probe_only = false;  // set everything up, then exit 0 instead of exec
};

// ---- In the forked children: async-signal-safe from here to the hook. ----

const char* write_proc_self(const char* path, std::string_view text, const char* what) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return what;
  const ssize_t written = ::write(fd, text.data(), text.size());
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return written == static_cast<ssize_t>(text.size()) ? nullptr : what;
}

// Makes the current user namespace map 0 to the uid/gid we had before entering it.
const char* map_root(std::string_view uid_map, std::string_view gid_map) {
  if (const char* failed = write_proc_self("/proc/self/setgroups", "deny", "deny setgroups")) {
    if (errno != ENOENT) return failed;
  }
  if (const char* failed = write_proc_self("/proc/self/uid_map", uid_map, "write uid_map")) return failed;
  return write_proc_self("/proc/self/gid_map", gid_map, "write gid_map");
}

const char* write_file(const RootStep& step) {
  const int fd = ::open(step.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, step.mode);
  if (fd < 0) return step.what.c_str();
  const char* data = step.content.data();
  std::size_t left = step.content.size();
  while (left > 0) {
    const ssize_t written = ::write(fd, data, left);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      const int saved = errno;
      ::close(fd);
      errno = saved;
      return step.what.c_str();
    }
    data += written;
    left -= static_cast<std::size_t>(written);
  }
  return ::close(fd) == 0 ? nullptr : step.what.c_str();
}

const char* copy_from_fd(const RootStep& step) {
  const int out = ::open(step.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, step.mode);
  if (out < 0) return step.what.c_str();
  off_t offset = 0;
  for (;;) {
    const ssize_t copied = ::sendfile(out, step.source_fd, &offset, 1 << 20);
    if (copied == 0) break;
    if (copied < 0 && errno == EINTR) continue;
    if (copied < 0) {
      const int saved = errno;
      ::close(out);
      errno = saved;
      return step.what.c_str();
    }
  }
  return ::close(out) == 0 ? nullptr : step.what.c_str();
}

unsigned long mount_flags_of(std::uint64_t attributes) {
  unsigned long flags = 0;
  if (attributes & MOUNT_ATTR_RDONLY) flags |= MS_RDONLY;
  if (attributes & MOUNT_ATTR_NOSUID) flags |= MS_NOSUID;
  if (attributes & MOUNT_ATTR_NODEV) flags |= MS_NODEV;
  if (attributes & MOUNT_ATTR_NOEXEC) flags |= MS_NOEXEC;
  return flags;
}

// Kernels before 5.12 have no mount_setattr: remount the top of the bind
// only, keeping the flags the kernel has locked on it.
int remount_bind(const char* path, std::uint64_t attributes) {
  struct statfs info {};
  if (::statfs(path, &info) != 0) return -1;
  unsigned long kept = 0;
  if (info.f_flags & ST_RDONLY) kept |= MS_RDONLY;
  if (info.f_flags & ST_NOSUID) kept |= MS_NOSUID;
  if (info.f_flags & ST_NODEV) kept |= MS_NODEV;
  if (info.f_flags & ST_NOEXEC) kept |= MS_NOEXEC;
  if (info.f_flags & ST_NOATIME) kept |= MS_NOATIME;
  if (info.f_flags & ST_NODIRATIME) kept |= MS_NODIRATIME;
  if (info.f_flags & ST_RELATIME) kept |= MS_RELATIME;
  return ::mount(nullptr, path, nullptr, MS_BIND | MS_REMOUNT | kept | mount_flags_of(attributes), nullptr);
}

const char* run_step(const RootStep& step) {
  const char* path = step.path.c_str();
  const char* what = step.what.c_str();
  switch (step.kind) {
    case RootStepKind::directory:
      return ::mkdir(path, step.mode) == 0 || errno == EEXIST ? nullptr : what;
    case RootStepKind::symlink:
      return ::symlink(step.source.c_str(), path) == 0 ? nullptr : what;
    case RootStepKind::bind: {
      if (::mount(step.source.c_str(), path, nullptr, MS_BIND | MS_REC, nullptr) != 0) return what;
      if (step.bind_attributes == 0) return nullptr;
      mount_attr attributes{};
      attributes.attr_set = step.bind_attributes;
      if (::syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &attributes, sizeof attributes) == 0) {
        return nullptr;
      }
      if (errno != ENOSYS) return what;
      return remount_bind(path, step.bind_attributes) == 0 ? nullptr : what;
    }
    case RootStepKind::mount:
      return ::mount(step.source.c_str(), path, step.source.c_str(), step.mount_flags,
                     step.options.empty() ? nullptr : step.options.c_str()) == 0
                 ? nullptr
                 : what;
    case RootStepKind::file:
      return write_file(step);
    case RootStepKind::copy_fd:
      return copy_from_fd(step);
  }
  return what;
}

const char* bring_up_loopback() {
  const int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return errno == EAFNOSUPPORT ? nullptr : "socket to bring up lo";
  ifreq request{};
  request.ifr_name[0] = 'l';
  request.ifr_name[1] = 'o';
  const char* failed = nullptr;
  if (::ioctl(sock, SIOCGIFFLAGS, &request) != 0) {
    failed = "read the flags of lo";
  } else {
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
    if (::ioctl(sock, SIOCSIFFLAGS, &request) != 0) failed = "bring up lo";
  }
  const int saved = errno;
  ::close(sock);
  errno = saved;
  return failed;
}

// PID 1 of the sandbox, before exec: build the root, enter it, lock it.
const char* become_sandbox_init(const SandboxSetup& setup) {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return "make every mount private";
  for (const RootStep& step : setup.root) {
    if (const char* failed = run_step(step)) return failed;
  }
  if (setup.copies_agent) ::close(kLocalAgentBinaryFd);
  if (::chdir(kStaging) != 0) return "enter the new root";
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return "pivot_root into the new root";
  // The host's root is now stacked on ours: detach it, and with it every host mount.
  if (::umount2(".", MNT_DETACH) != 0) return "detach the host's root";
  if (::chdir("/") != 0) return "chdir /";
  for (const RootStep& step : setup.files) {
    if (const char* failed = run_step(step)) return failed;
  }

  // The second user namespace locks the mounts made above (see the header).
  // Writing our own uid_map needs a dumpable process.
  if (::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) return "PR_SET_DUMPABLE";
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP) != 0) {
    return "unshare the inner user, mount, network, UTS, IPC and cgroup namespaces";
  }
  if (const char* failed = map_root("0 0 1", "0 0 1")) return failed;
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return "PR_SET_PDEATHSIG";
  if (::sethostname(setup.hostname.data(), setup.hostname.size()) != 0) return "sethostname";
  if (const char* failed = bring_up_loopback()) return failed;
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return "PR_SET_NO_NEW_PRIVS";
  ::umask(022);
  if (setup.probe_only) ::_exit(0);
  return nullptr;
}

// The monitor, outside the sandbox: waits for its PID 1 and exits the same
// way; SIGTERM (or SIGINT, SIGHUP) kills PID 1 and with it the sandbox.
[[noreturn]] void monitor(pid_t init, int keep_fd, const sigset_t& watched) {
  // Nothing of the supervisor's: no fds but the pipe that tells PID 1 we live.
  if (keep_fd > 0) ::syscall(SYS_close_range, 0U, static_cast<unsigned>(keep_fd - 1), 0U);
  ::syscall(SYS_close_range, static_cast<unsigned>(keep_fd + 1), ~0U, 0U);
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(init, &status, WNOHANG);
    if (done == init) {
      if (WIFEXITED(status)) ::_exit(WEXITSTATUS(status));
      const int signo = WTERMSIG(status);
      const rlimit no_core{0, 0};
      ::setrlimit(RLIMIT_CORE, &no_core);
      ::signal(signo, SIG_DFL);
      sigset_t just_that;
      sigemptyset(&just_that);
      sigaddset(&just_that, signo);
      ::sigprocmask(SIG_UNBLOCK, &just_that, nullptr);
      ::kill(::getpid(), signo);
      ::_exit(128 + signo);
    }
    if (done < 0 && errno != EINTR) ::_exit(127);
    siginfo_t info;
    const int signo = ::sigwaitinfo(&watched, &info);
    if (signo == SIGTERM || signo == SIGINT || signo == SIGHUP) ::kill(init, SIGKILL);
  }
}

// The Subprocess::spawn hook, in its forked child (which becomes the monitor).
// Returns an error text (errno set) or, in PID 1 of the sandbox, nullptr to
// have it exec the program.
const char* enter_sandbox(const SandboxSetup& setup) {
  ::umask(0);
  ::prctl(PR_SET_NAME, "provium-sandbox", 0, 0, 0);  // the monitor's name in ps
  if (const char* failed = setup.drop_privileges()) return failed;
  // Needed to write our own uid_map after a uid change.
  if (::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) return "PR_SET_DUMPABLE";
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) != 0) {
    return "unshare the user, mount and PID namespaces";
  }
  if (const char* failed = map_root(setup.outer_uid_map, setup.outer_gid_map)) return failed;
  // Nobody else running as our uid gets to read the supervisor's memory from us.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return "PR_SET_DUMPABLE";
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return "PR_SET_PDEATHSIG";
  if (::getppid() != setup.supervisor) return "the supervisor exited during spawn";

  int alive[2];
  if (::pipe2(alive, O_CLOEXEC) != 0) return "pipe";
  sigset_t watched;
  sigemptyset(&watched);
  for (const int signo : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&watched, signo);
  sigset_t previous;
  ::sigprocmask(SIG_BLOCK, &watched, &previous);
  const pid_t init = ::fork();
  if (init < 0) return "fork the sandbox's PID 1";
  if (init > 0) {
    ::close(alive[0]);
    monitor(init, alive[1], watched);
  }

  ::sigprocmask(SIG_SETMASK, &previous, nullptr);
  ::close(alive[1]);
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return "PR_SET_PDEATHSIG";
  // The monitor may have died before PDEATHSIG was armed: then its end is closed.
  pollfd monitor_end{alive[0], POLLIN, 0};
  if (::poll(&monitor_end, 1, 0) > 0 && (monitor_end.revents & (POLLHUP | POLLERR))) {
    errno = 0;
    return "the sandbox monitor exited during setup";
  }
  ::close(alive[0]);
  // A session of its own: no controlling terminal, so nothing in the sandbox
  // can open the user's terminal as /dev/tty (and, say, push keystrokes into
  // it with TIOCSTI).
  if (::setsid() < 0) return "setsid";
  return become_sandbox_init(setup);
}

// ---- Back in the supervisor. ----

struct FdPair {
  kj::AutoCloseFd ours;
  kj::AutoCloseFd theirs;
};

FdPair make_socketpair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    throw std::runtime_error(fmt::format("socketpair for the agent channel: {}", std::strerror(errno)));
  }
  return {kj::AutoCloseFd(fds[0]), kj::AutoCloseFd(fds[1])};
}

kj::AutoCloseFd open_or_throw(const std::string& path, int flags) {
  kj::AutoCloseFd fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (fd.get() < 0) throw std::runtime_error(fmt::format("{}: {}", path, std::strerror(errno)));
  return fd;
}

std::shared_ptr<const SandboxSetup> make_setup(const LocalSandboxSpec& spec, bool probe_only) {
  auto setup = std::make_shared<SandboxSetup>();
  setup->drop_privileges = privilege_drop_hook(spec.identity);
  setup->supervisor = ::getpid();
  const uid_t outer_uid = spec.identity.switch_user ? spec.identity.uid : ::geteuid();
  const gid_t outer_gid = spec.identity.switch_user ? spec.identity.gid : ::getegid();
  setup->outer_uid_map = fmt::format("0 {} 1", outer_uid);
  setup->outer_gid_map = fmt::format("0 {} 1", outer_gid);
  setup->copies_agent = spec.agent.has_value();
  setup->root = plan_local_root({.hostname = spec.hostname, .scratch_bytes = spec.memory_bytes,
                                 .with_agent = setup->copies_agent});
  for (RootStep& step : setup->root) {
    step.path = step.target == "/" ? kStaging : kStaging + step.target;
    if (step.target == "/") step.what += fmt::format(" (staged on {})", kStaging);
  }
  setup->files = plan_guest_files(spec.files);
  for (RootStep& step : setup->files) step.path = step.target;
  setup->hostname = spec.hostname;
  setup->probe_only = probe_only;
  return setup;
}

// "spawn /run/provium/provium-agent: mount proc on /proc: ..." -> "mount proc on /proc: ...".
std::string without_spawn_prefix(const std::string& message, const std::string& program) {
  const std::string prefix = "spawn " + program + ": ";
  return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

SpawnedSandbox spawn_sandbox(const LocalSandboxSpec& spec, bool probe_only) {
  if (spec.argv.empty()) throw std::runtime_error("local sandbox: nothing to run");
  if (spec.hostname.empty() || spec.hostname.size() > HOST_NAME_MAX) {
    throw std::runtime_error(fmt::format("local sandbox: bad hostname `{}`", spec.hostname));
  }
  const auto setup = make_setup(spec, probe_only);
  FdPair channel = make_socketpair();
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
  kj::AutoCloseFd output_read(pipe_fds[0]);
  kj::AutoCloseFd output_write(pipe_fds[1]);
  kj::AutoCloseFd dev_null = open_or_throw("/dev/null", O_RDONLY);
  kj::AutoCloseFd agent_binary;
  if (spec.agent) agent_binary = open_or_throw(spec.agent->string(), O_RDONLY);

  SpawnSpec process;
  process.argv = spec.argv;
  process.env = spec.env;
  process.fds = {{0, dev_null.get()},
                 {1, output_write.get()},
                 {2, output_write.get()},
                 {kChannelFd, channel.theirs.get()}};
  if (spec.agent) process.fds.push_back({kLocalAgentBinaryFd, agent_binary.get()});
  process.before_exec = [setup]() { return enter_sandbox(*setup); };
  try {
    return SpawnedSandbox{Subprocess::spawn(process), kj::mv(channel.ours), kj::mv(output_read)};
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(without_spawn_prefix(error.what(), spec.argv.front()));
  }
}

}  // namespace

LocalSandboxSpec local_agent_spec(std::string hostname, std::uint64_t memory_bytes, PrivilegeDrop identity,
                                  std::filesystem::path agent, std::vector<GuestFile> files) {
  LocalSandboxSpec spec;
  spec.hostname = std::move(hostname);
  spec.memory_bytes = memory_bytes;
  spec.identity = std::move(identity);
  spec.agent = std::move(agent);
  spec.files = std::move(files);
  spec.argv = {kLocalAgentPath, "--connect-fd", std::to_string(kChannelFd)};
  spec.env = {"HOME=/root", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=linux"};
  return spec;
}

SpawnedSandbox spawn_in_local_sandbox(const LocalSandboxSpec& spec) { return spawn_sandbox(spec, false); }

std::optional<std::string> probe_local_sandbox(const PrivilegeDrop& identity) {
  LocalSandboxSpec spec;
  spec.hostname = "provium-probe";
  spec.memory_bytes = 16 * 1024 * 1024;
  spec.identity = identity;
  spec.argv = {"/bin/true"};
  try {
    SpawnedSandbox probe = spawn_sandbox(spec, true);
    const ExitStatus status = probe.process.wait();
    if (status.exited && status.code == 0) return std::nullopt;
    return fmt::format("the sandbox check ended with {}", status.describe());
  } catch (const std::exception& error) {
    return std::string(error.what());
  }
}

}  // namespace provium
