#include "guest_init.h"

#include "log.h"
#include "unique_fd.h"

#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace provium::agent {
namespace {

struct PseudoFilesystem {
  const char* target;
  const char* type;
  unsigned long flags;
  const char* options;
  mode_t directory_mode;
};

// Order matters: /dev/pts and /dev/shm live on the devtmpfs.
constexpr PseudoFilesystem kPseudoFilesystems[] = {
    {"/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, 0555},
    {"/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, 0555},
    {"/dev", "devtmpfs", MS_NOSUID, "mode=0755", 0755},
    {"/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666", 0755},
    {"/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 01777},
    {"/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 01777},
    {"/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", 0755},
};

// A mount point sits on a different device than its parent directory.
bool is_mount_point(const char* path) {
  struct stat self {};
  struct stat parent {};
  if (::stat(path, &self) != 0) return false;
  const std::string parent_path = std::string(path) + "/..";
  if (::stat(parent_path.c_str(), &parent) != 0) return false;
  return self.st_dev != parent.st_dev;
}

void ensure_fd(int target, const char* path, int flags) {
  if (::fcntl(target, F_GETFD) != -1) return;  // already open
  const int fd = ::open(path, flags | O_NOCTTY);
  if (fd < 0) return;  // nowhere to point it; leave closed
  if (fd != target) {
    ::dup2(fd, target);
    ::close(fd);
  }
}

}  // namespace

void mount_pseudo_filesystems() {
  for (const PseudoFilesystem& fs : kPseudoFilesystems) {
    if (::mkdir(fs.target, fs.directory_mode) != 0 && errno != EEXIST) {
      log_errno(std::string("mkdir ") + fs.target, errno);
      continue;
    }
    if (is_mount_point(fs.target)) continue;
    if (::mount(fs.type, fs.target, fs.type, fs.flags, fs.options) != 0) {
      log_errno(std::string("mount ") + fs.type + " on " + fs.target, errno);
    }
  }
}

void open_standard_fds() {
  ensure_fd(STDIN_FILENO, "/dev/null", O_RDONLY);
  ensure_fd(STDOUT_FILENO, "/dev/console", O_WRONLY);
  ensure_fd(STDERR_FILENO, "/dev/console", O_WRONLY);
  // Still nothing (no /dev/console): /dev/null at least keeps 0-2 occupied.
  ensure_fd(STDOUT_FILENO, "/dev/null", O_WRONLY);
  ensure_fd(STDERR_FILENO, "/dev/null", O_WRONLY);
}

void set_default_path() { ::setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin", 1); }

void bring_up_loopback() {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return;  // no IPv4 in this kernel: nothing to do
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &request) != 0) return;
  if (request.ifr_flags & IFF_UP) return;
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &request) != 0) log_errno("bring up lo", errno);
}

}  // namespace provium::agent
