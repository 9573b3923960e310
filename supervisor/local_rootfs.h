// The file system a --vmm local agent sees, as a list of steps that the
// sandbox setup (local_agent_spawn.cpp) carries out inside its new mount
// namespace: a fresh tmpfs as the root; read-only binds of the host's program
// trees (/usr, /bin, /lib, ...) and of a few harmless /etc entries; a minimal
// /dev of six bound device nodes; a fresh /proc; scratch tmpfs mounts for
// /tmp, /run and /dev/shm; a synthetic /etc (passwd, group, hosts, ...); and
// a private copy of the agent binary. Nothing else of the host is reachable:
// not /home, /root, /opt, /srv, /var, /mnt or the directory Provium runs in.
//
// Building the list is pure (host facts in, steps out), so it can be tested,
// and so the forked child, which must not allocate, only walks it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "vm_request.h"

namespace provium {

// Where the agent binary is copied in the sandbox, and run from.
inline constexpr const char* kLocalAgentPath = "/run/provium/provium-agent";
// The fd the agent binary arrives on in the sandbox setup (closed before exec).
inline constexpr int kLocalAgentBinaryFd = 4;

enum class RootStepKind {
  directory,  // mkdir `target` with `mode` (an existing one is fine)
  symlink,    // `target` -> `source`
  bind,       // bind host `source` (recursively) on `target`, then set `bind_attributes`
  mount,      // mount a fresh `source` file system on `target` with `options`
  file,       // write `content` to `target` with `mode`
  copy_fd,    // copy all of fd `source_fd` to the new file `target` with `mode`
};

struct RootStep {
  RootStepKind kind = RootStepKind::directory;
  std::string target;  // absolute path inside the sandbox, "/" for its root
  std::string source;  // bind: host path; symlink: link text; mount: file system type
  std::string options;  // mount: mount data
  std::string content;  // file: bytes
  unsigned long mount_flags = 0;  // mount: MS_* flags
  std::uint64_t bind_attributes = 0;  // bind: MOUNT_ATTR_* to add to the bound tree
  bool bind_directory = true;  // bind: a directory (else an empty file is made to bind on)
  int source_fd = -1;  // copy_fd
  mode_t mode = 0755;
  std::string what;  // for error messages: "bind /usr on /usr"
  // Where the setup finds `target`: below the staging mount before
  // pivot_root, `target` itself after. Filled in by the spawner.
  std::string path;
};

// What lstat says about a host path (symlinks are not followed).
struct HostEntry {
  enum class Type { missing, directory, file, symlink, device, other };
  Type type = Type::missing;
  std::string link;  // symlink: its text
};
using HostProbe = std::function<HostEntry(const std::string& path)>;

HostEntry probe_host_path(const std::string& path);

struct LocalRootRequest {
  std::string hostname;            // the VM name; written to /etc/hostname and /etc/hosts
  std::uint64_t scratch_bytes = 0;  // size= of each scratch tmpfs (the root, /tmp, /run, /dev/shm)
  bool with_agent = true;          // copy the agent binary from kLocalAgentBinaryFd
};

// The root's steps in order; `probe` answers for host paths.
std::vector<RootStep> plan_local_root(const LocalRootRequest& request, const HostProbe& probe = probe_host_path);

// The runner's `files` option, written into the finished root (after
// pivot_root): each file's parent directories, then the file (0644).
std::vector<RootStep> plan_guest_files(const std::vector<GuestFile>& files);

// The synthetic /etc files, exposed for tests.
std::string local_passwd();
std::string local_group();
std::string local_hosts(const std::string& hostname);

}  // namespace provium
