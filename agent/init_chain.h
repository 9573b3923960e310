// Running alongside a user's own init. When the user's initrd carries its own
// /init and the kernel starts the agent instead (rdinit=/sbin/provium-agent on
// the overlay Provium appends), the agent forks: the parent execs /init so the
// user's init keeps PID 1, and the child goes on to serve the host.
#pragma once

namespace provium::agent {

inline constexpr const char* kUserInit = "/init";

enum class InitRole {
  kSoleInit,    // no other init: the agent is the guest's init
  kAgentChild,  // forked off; the user's /init now runs as PID 1
};

// Call as PID 1 after mount_pseudo_filesystems(). In the parent this never
// returns: it becomes /init (argv[0] replaced, the rest passed through).
InitRole chain_to_user_init(int argc, char** argv);

}  // namespace provium::agent
