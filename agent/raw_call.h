// Layer 0: a raw system call or ioctl made by the agent on the host's behalf.
//
// Decision: the call runs in the agent process itself (or in a worker, which
// is a separate agent process), not in a forked child. That keeps the results
// meaningful: an fd it opens stays open for later calls, memory it maps stays
// mapped, getpid() is the agent's, and handle ids (which are the agent's fds)
// work as fd arguments. The price is that the call can hurt the agent, so a
// few are refused with EPERM before they are made:
//  - calls that end or replace the process: exit, exit_group, execve, execveat;
//  - calls that would duplicate it (the child would share the host channel and
//    the event loop): fork, vfork, clone, clone3 (use spawn instead);
//  - signals (other than 0) aimed at the agent itself, its process group or
//    PID 1 (killing init panics the guest): kill, tkill, tgkill,
//    rt_sigqueueinfo, rt_tgsigqueueinfo; and rt_sigreturn;
//  - closing or replacing a descriptor the agent owns (the host channel, the
//    event loop, pipes of runs, file handles): close, close_range, dup2 and
//    dup3 onto it. Close a file handle with fileClose.
// Everything else is the caller's business, including calls that block: one
// that blocks stalls the (worker) agent serving it until it returns, so make
// such calls from a worker.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace provium::agent {

using ByteBuffer = std::vector<std::byte>;

// Buffers are copied for the call and sent back; together they must fit one
// response.
inline constexpr std::size_t kMaxRawCallBufferBytes = 32u << 20;
inline constexpr std::size_t kSyscallArgCount = 6;

struct RawSyscall {
  std::int64_t nr = 0;
  std::array<std::int64_t, kSyscallArgCount> args{};
  std::vector<ByteBuffer> bufs;
  std::vector<std::uint8_t> ptrs;  // bufs[i]'s address goes into args[ptrs[i]]
};

struct RawIoctl {
  int fd = -1;
  std::uint64_t cmd = 0;
  std::uint64_t arg = 0;               // used when there is no data
  std::optional<ByteBuffer> data;      // its address is the third argument
  std::vector<ByteBuffer> bufs;
  std::vector<std::uint32_t> ptr_offsets;  // bufs[i]'s address is stored at data[ptr_offsets[i]]
};

struct RawCallResult {
  std::int64_t ret = 0;
  int error_number = 0;  // 0 unless the call failed
  ByteBuffer out_data;
  std::vector<ByteBuffer> out_bufs;
};

// Both throw std::system_error: EPERM for a refused call (naming it and why),
// EINVAL/E2BIG for a malformed request. A call that was made and failed is
// not an exception: it comes back with error_number set.
RawCallResult perform_syscall(RawSyscall call);
RawCallResult perform_ioctl(RawIoctl call);

}  // namespace provium::agent
