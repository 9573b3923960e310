#include "qemu_privileges.h"

#include <csignal>
#include <fstream>
#include <stdexcept>

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace provium {
namespace {

int read_last_capability() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int last = 63;
  in >> last;
  return in ? last : 63;
}

}  // namespace

PrivilegeDrop plan_privilege_drop(bool with_kvm) {
  PrivilegeDrop drop;
  drop.last_capability = read_last_capability();
  drop.parent = ::getpid();
  if (::geteuid() != 0) return drop;
  const passwd* nobody = ::getpwnam("nobody");
  if (!nobody) throw std::runtime_error("running as root, but there is no `nobody` user to run QEMU as");
  drop.switch_user = true;
  drop.uid = nobody->pw_uid;
  drop.gid = nobody->pw_gid;
  struct stat kvm {};
  if (with_kvm && ::stat("/dev/kvm", &kvm) == 0) drop.groups.push_back(kvm.st_gid);
  return drop;
}

std::function<const char*()> privilege_drop_hook(PrivilegeDrop drop) {
  return [drop]() -> const char* {
    ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (drop.switch_user) {
      for (int capability = 0; capability <= drop.last_capability; ++capability) {
        if (::prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0) return "drop capability bounding set";
      }
      if (::setgroups(drop.groups.size(), drop.groups.data()) != 0) return "setgroups";
      if (::setresgid(drop.gid, drop.gid, drop.gid) != 0) return "setresgid";
      if (::setresuid(drop.uid, drop.uid, drop.uid) != 0) return "setresuid";
      // A credential change clears the parent-death signal; QEMU must still die with us.
      if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return "PR_SET_PDEATHSIG";
      if (::getppid() != drop.parent) return "the supervisor exited during spawn";
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return "PR_SET_NO_NEW_PRIVS";
    return nullptr;
  };
}

}  // namespace provium
