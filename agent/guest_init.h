// What the agent does when the kernel starts it as PID 1 (the bundled guest,
// or rdinit=/sbin/provium-agent in a user's initrd): the minimal job of an init
// before anything else can run.
#pragma once

namespace provium::agent {

// Mounts /proc, /sys, /dev (devtmpfs), /dev/pts, /dev/shm, /tmp and /run,
// skipping any that is already a mount point. Failures are logged, not fatal:
// the agent can still serve without, say, /run.
void mount_pseudo_filesystems();

// The kernel opens /dev/console for init only if the initramfs has that node;
// ours relies on devtmpfs instead, so fds 0-2 may be closed. Point the missing
// ones at /dev/null (stdin) and /dev/console (stdout, stderr), which also keeps
// later pipes and files from landing on 0-2. Call after mount_pseudo_filesystems().
void open_standard_fds();

// PATH for everything the agent starts (the kernel gives init no PATH).
void set_default_path();

// Brings up `lo`, as any init would; tests expect localhost to work.
void bring_up_loopback();

}  // namespace provium::agent
