// Reads a guest's RAM out of the QEMU process that maps it privately: a VM
// restored from a snapshot maps the snapshot file copy-on-write, so what the
// guest changed lives only in QEMU's own pages. We find the mapping of that
// file in /proc/<pid>/maps (by device and inode) and copy it through
// /proc/<pid>/mem, the way a debugger reads memory (the supervisor is QEMU's
// parent, which ptrace access allows). Zero pages are skipped: the copy
// stays sparse.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace provium {

// Copies `bytes` of the mapping of `backing_fd`'s file in process `pid` into
// `into_fd` at offset 0. Throws std::runtime_error naming the step.
void copy_mapped_ram(pid_t pid, int backing_fd, std::uint64_t bytes, int into_fd);

}  // namespace provium
