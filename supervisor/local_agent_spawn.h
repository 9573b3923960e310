// Starts provium-agent for --vmm local: no kernel, the agent runs on this host
// as PID 1 of its own namespaces, on a private root file system
// (local_rootfs.h), as an unprivileged user, with no_new_privs.
//
// The process tree, all started from Subprocess::spawn's forked child:
//
//   supervisor
//    └─ monitor  (outside uid: `nobody` when we are root, else ours; no fds)
//        └─ agent  PID 1 of a new PID namespace, root of a user namespace
//                  that maps uid/gid 0 to the monitor's uid/gid, and nothing else
//
// 1. monitor: drop to the unprivileged uid (empty bounding set, no groups,
//    no_new_privs), then unshare user + mount + PID namespaces and map 0 -> uid.
// 2. fork: the child is PID 1 of the new PID namespace. It makes every mount
//    private, mounts a tmpfs on the staging directory (/tmp, in its own mount
//    namespace only), builds the root there, mounts a fresh /proc, pivot_roots
//    into it and detaches the host's root, so nothing else of the host is left
//    in its mount namespace. It writes the runner's `files`.
// 3. It then enters a second user namespace (0 -> 0) together with new mount,
//    network, UTS, IPC and cgroup namespaces. Mounts inherited into a mount
//    namespace of a less privileged user namespace are locked by the kernel:
//    root in the sandbox cannot make the read-only binds writable, nor unmount
//    them to look underneath. It sets the hostname, brings up `lo` (the only
//    interface), and execs the agent with `--connect-fd 3`.
//
// The monitor waits for the agent and exits with its status; on SIGTERM it
// kills the agent. PID 1 dying takes the whole PID namespace with it, and the
// namespaces and the tmpfs root go away with their last process: no host file
// is created. The monitor and the agent die with their parent (PDEATHSIG).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <kj/io.h>

#include "qemu_privileges.h"
#include "subprocess.h"
#include "vm_request.h"

namespace provium {

struct LocalSandboxSpec {
  std::string hostname;                         // the VM name
  std::uint64_t memory_bytes = 0;               // caps each scratch tmpfs; 0: no cap
  PrivilegeDrop identity;                       // from plan_privilege_drop(false)
  std::optional<std::filesystem::path> agent;   // copied to kLocalAgentPath when set
  std::vector<GuestFile> files;                 // written into the root before exec
  std::vector<std::string> argv;                // paths inside the sandbox
  std::vector<std::string> env;
};

struct SpawnedSandbox {
  Subprocess process;      // the monitor: its exit status is the sandboxed program's
  kj::AutoCloseFd channel;  // our end of the socket that is fd 3 in the sandbox
  kj::AutoCloseFd output;  // read end of the program's stdout and stderr
};

// argv and env for the agent: `provium-agent --connect-fd 3`.
LocalSandboxSpec local_agent_spec(std::string hostname, std::uint64_t memory_bytes, PrivilegeDrop identity,
                                  std::filesystem::path agent, std::vector<GuestFile> files);

// Throws std::runtime_error with the failing step and errno ("mount proc on
// /proc: Operation not permitted") when the sandbox cannot be set up.
SpawnedSandbox spawn_in_local_sandbox(const LocalSandboxSpec& spec);

// Sets a sandbox up without running anything in it; nullopt when that works,
// else why not. For preflight.
std::optional<std::string> probe_local_sandbox(const PrivilegeDrop& identity);

}  // namespace provium
