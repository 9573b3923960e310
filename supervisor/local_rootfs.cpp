#include "local_rootfs.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace provium {
namespace {

constexpr std::uint64_t kReadOnlyTree = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
constexpr unsigned long kScratchFlags = MS_NOSUID | MS_NODEV;

// The host's program trees: bound read-only, or recreated as the same symlink
// where the host has merged /usr (/bin -> usr/bin).
constexpr const char* kProgramTrees[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};

// Host /etc entries with nothing private in them that programs need: the
// Debian alternatives symlinks (awk, which, editor, ...), the dynamic linker's
// cache and configuration, the time zone, the OS name, port and protocol names.
constexpr const char* kHostEtcEntries[] = {"/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf",
                                           "/etc/ld.so.conf.d", "/etc/localtime",   "/etc/os-release",
                                           "/etc/protocols",    "/etc/services"};

constexpr const char* kDeviceNodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

class Planner {
 public:
  explicit Planner(const HostProbe& probe) : probe_(probe) {}

  void directory(const std::string& target, mode_t mode) {
    add({.kind = RootStepKind::directory, .target = target, .mode = mode, .what = "create directory " + target});
  }
  void symlink(const std::string& target, const std::string& link) {
    add({.kind = RootStepKind::symlink, .target = target, .source = link,
         .what = fmt::format("create symlink {} -> {}", target, link)});
  }
  void mount(const std::string& target, const std::string& type, unsigned long flags, const std::string& options) {
    add({.kind = RootStepKind::mount, .target = target, .source = type, .options = options, .mount_flags = flags,
         .what = fmt::format("mount {} on {}", type, target)});
  }
  void file(const std::string& target, std::string content, mode_t mode = 0644) {
    add({.kind = RootStepKind::file, .target = target, .content = std::move(content), .mode = mode,
         .what = "write " + target});
  }
  // Mirrors host `path` at the same place: a read-only bind of a directory or
  // file, the same symlink, or nothing when the host has none.
  void mirror(const std::string& path, std::uint64_t attributes) {
    const HostEntry entry = probe_(path);
    switch (entry.type) {
      case HostEntry::Type::symlink:
        symlink(path, entry.link);
        return;
      case HostEntry::Type::directory:
        directory(path, 0755);
        bind(path, attributes, true);
        return;
      case HostEntry::Type::file:
      case HostEntry::Type::device:
        file(path, "", 0644);
        bind(path, attributes, false);
        return;
      case HostEntry::Type::missing:
      case HostEntry::Type::other:
        return;
    }
  }
  void copy_fd(const std::string& target, int fd, mode_t mode) {
    add({.kind = RootStepKind::copy_fd, .target = target, .source_fd = fd, .mode = mode,
         .what = "copy the agent binary to " + target});
  }

  std::vector<RootStep> take() { return std::move(steps_); }

 private:
  void bind(const std::string& path, std::uint64_t attributes, bool is_directory) {
    add({.kind = RootStepKind::bind, .target = path, .source = path, .bind_attributes = attributes,
         .bind_directory = is_directory, .what = fmt::format("bind {} on {}", path, path)});
  }
  void add(RootStep step) { steps_.push_back(std::move(step)); }

  const HostProbe& probe_;
  std::vector<RootStep> steps_;
};

std::string scratch_options(const char* mode, std::uint64_t bytes) {
  return bytes ? fmt::format("mode={},size={}", mode, bytes) : fmt::format("mode={}", mode);
}

// "/a/b/c" -> "/a", "/a/b".
std::vector<std::string> parents_of(const std::string& path) {
  std::vector<std::string> parents;
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    parents.push_back(path.substr(0, slash));
  }
  return parents;
}

}  // namespace

HostEntry probe_host_path(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return {};
  HostEntry entry;
  if (S_ISLNK(info.st_mode)) {
    std::string link(4096, '\0');
    const ssize_t length = ::readlink(path.c_str(), link.data(), link.size());
    if (length <= 0 || static_cast<std::size_t>(length) >= link.size()) return {HostEntry::Type::other, ""};
    link.resize(static_cast<std::size_t>(length));
    entry.type = HostEntry::Type::symlink;
    entry.link = std::move(link);
  } else if (S_ISDIR(info.st_mode)) {
    entry.type = HostEntry::Type::directory;
  } else if (S_ISREG(info.st_mode)) {
    entry.type = HostEntry::Type::file;
  } else if (S_ISCHR(info.st_mode)) {
    entry.type = HostEntry::Type::device;
  } else {
    entry.type = HostEntry::Type::other;
  }
  return entry;
}

std::string local_passwd() {
  return "root:x:0:0:root:/root:/bin/sh\n"
         "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
}

std::string local_group() { return "root:x:0:\nnogroup:x:65534:\n"; }

std::string local_hosts(const std::string& hostname) {
  return fmt::format("127.0.0.1\tlocalhost\n127.0.1.1\t{}\n::1\tlocalhost ip6-localhost ip6-loopback\n", hostname);
}

std::vector<RootStep> plan_local_root(const LocalRootRequest& request, const HostProbe& probe) {
  Planner plan(probe);
  const std::uint64_t size = request.scratch_bytes;
  plan.mount("/", "tmpfs", kScratchFlags, scratch_options("0755", size));
  for (const char* tree : kProgramTrees) plan.mirror(tree, kReadOnlyTree);

  plan.directory("/etc", 0755);
  plan.file("/etc/passwd", local_passwd());
  plan.file("/etc/group", local_group());
  plan.file("/etc/hostname", request.hostname + "\n");
  plan.file("/etc/hosts", local_hosts(request.hostname));
  plan.file("/etc/resolv.conf", "# provium --vmm local: no network but loopback\n");
  plan.file("/etc/nsswitch.conf",
            "passwd: files\ngroup: files\nshadow: files\nhosts: files\nnetworks: files\n"
            "protocols: files\nservices: files\n");
  plan.symlink("/etc/mtab", "../proc/self/mounts");
  for (const char* entry : kHostEtcEntries) plan.mirror(entry, kReadOnlyTree);

  // /dev: a small tmpfs of its own, so the agent does not try devtmpfs there.
  plan.directory("/dev", 0755);
  plan.mount("/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m");
  for (const char* node : kDeviceNodes) {
    const std::string path = std::string("/dev/") + node;
    if (probe(path).type == HostEntry::Type::device) plan.mirror(path, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
  }
  plan.symlink("/dev/fd", "/proc/self/fd");
  plan.symlink("/dev/stdin", "/proc/self/fd/0");
  plan.symlink("/dev/stdout", "/proc/self/fd/1");
  plan.symlink("/dev/stderr", "/proc/self/fd/2");
  plan.symlink("/dev/ptmx", "pts/ptmx");
  plan.directory("/dev/pts", 0755);
  plan.mount("/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
  plan.directory("/dev/shm", 01777);
  plan.mount("/dev/shm", "tmpfs", kScratchFlags, scratch_options("1777", size));

  // Fresh /proc for the new PID namespace: it shows the sandbox's processes only.
  plan.directory("/proc", 0555);
  plan.mount("/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "");
  // No sysfs (it would describe the host's devices): an empty read-only
  // directory, which also keeps the agent from trying to mount one.
  plan.directory("/sys", 0555);
  plan.mount("/sys", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0555,size=4k");

  plan.directory("/tmp", 01777);
  plan.mount("/tmp", "tmpfs", kScratchFlags, scratch_options("1777", size));
  plan.directory("/run", 0755);
  plan.mount("/run", "tmpfs", kScratchFlags, scratch_options("0755", size));
  plan.directory("/run/provium", 0755);
  if (request.with_agent) plan.copy_fd(kLocalAgentPath, kLocalAgentBinaryFd, 0755);

  plan.directory("/root", 0700);
  plan.directory("/home", 0755);
  plan.directory("/mnt", 0755);
  plan.directory("/var", 0755);
  plan.directory("/var/tmp", 01777);
  return plan.take();
}

std::vector<RootStep> plan_guest_files(const std::vector<GuestFile>& files) {
  std::vector<RootStep> steps;
  for (const auto& file : files) {
    for (const auto& parent : parents_of(file.path)) {
      steps.push_back({.kind = RootStepKind::directory, .target = parent, .mode = 0755,
                       .what = fmt::format("files: `{}`: create directory {}", file.path, parent)});
    }
    steps.push_back({.kind = RootStepKind::file, .target = file.path, .content = file.content, .mode = 0644,
                     .what = fmt::format("files: `{}`", file.path)});
  }
  return steps;
}

}  // namespace provium
