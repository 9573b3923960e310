// QEMU runs with no privileges: when we are root it becomes `nobody` (plus the
// group owning /dev/kvm when KVM is used), with an empty capability bounding
// set, no ambient capabilities and no_new_privs. The hook runs in the forked
// child just before exec.
#pragma once

#include <sys/types.h>

#include <functional>
#include <vector>

namespace provium {

struct PrivilegeDrop {
  bool switch_user = false;  // only possible (and needed) when we are root
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  int last_capability = 63;
  pid_t parent = 0;  // the supervisor, to notice it dying mid-spawn
};

// Throws std::runtime_error when root but there is no `nobody` user.
PrivilegeDrop plan_privilege_drop(bool with_kvm);

// An async-signal-safe hook for SpawnSpec::before_exec.
std::function<const char*()> privilege_drop_hook(PrivilegeDrop drop);

}  // namespace provium
