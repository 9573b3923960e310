#include "raw_call.h"

#include "unique_fd.h"

#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace provium::agent {
namespace {

[[noreturn]] void refuse(std::int64_t nr, const std::string& why) {
  throw std::system_error(EPERM, std::generic_category(),
                          "syscall " + std::to_string(nr) + " refused: " + why);
}

[[noreturn]] void malformed(const std::string& what) {
  throw std::system_error(EINVAL, std::generic_category(), what);
}

void check_buffer_budget(const std::vector<ByteBuffer>& bufs, std::size_t already) {
  std::size_t total = already;
  for (const ByteBuffer& buf : bufs) total += buf.size();
  if (total > kMaxRawCallBufferBytes) {
    throw std::system_error(E2BIG, std::generic_category(),
                            "raw call buffers total " + std::to_string(total) + " bytes; the limit is " +
                                std::to_string(kMaxRawCallBufferBytes));
  }
}

// A pointer the kernel may use even for an empty buffer.
void* address_of(ByteBuffer& buf) {
  if (buf.capacity() == 0) buf.reserve(1);
  return buf.data();
}

bool aims_at_agent_or_init(std::int64_t pid) {
  return pid == ::getpid() || pid == 1 || pid == 0 || pid == -static_cast<std::int64_t>(::getpgrp());
}

void check_signal_target(std::int64_t nr, std::int64_t target, std::int64_t signal, bool thread) {
  if (signal == 0) return;  // an existence check only
  const bool aims_at_agent = thread ? (target == ::gettid() || target == 1) : aims_at_agent_or_init(target);
  if (aims_at_agent) refuse(nr, "the signal would reach the agent itself or PID 1");
}

void check_descriptor_untouched(std::int64_t nr, std::int64_t fd) {
  if (fd >= 0 && fd <= INT32_MAX && is_owned_descriptor(static_cast<int>(fd))) {
    refuse(nr, "fd " + std::to_string(fd) + " is in use by the agent (close file handles with fileClose)");
  }
}

void check_range_untouched(std::int64_t nr, std::uint64_t first, std::uint64_t last) {
  int lowest = -1;  // named in the refusal, for a stable message
  for (int fd : detail::owned_descriptor_set()) {
    const auto number = static_cast<std::uint64_t>(fd);
    if (number >= first && number <= last && (lowest < 0 || fd < lowest)) lowest = fd;
  }
  if (lowest >= 0) check_descriptor_untouched(nr, lowest);
}

void check_allowed(const RawSyscall& call) {
  const auto& a = call.args;
  switch (call.nr) {
    case SYS_exit:
    case SYS_exit_group:
      refuse(call.nr, "it would end the agent");
    case SYS_execve:
    case SYS_execveat:
      refuse(call.nr, "it would replace the agent (use spawn)");
    case SYS_fork:
    case SYS_vfork:
    case SYS_clone:
    case SYS_clone3:
      refuse(call.nr, "the child would share the agent's channel (use spawn)");
    case SYS_rt_sigreturn:
      refuse(call.nr, "there is no signal frame to return from");
    case SYS_kill:             // (pid, sig)
    case SYS_rt_sigqueueinfo:  // (pid, sig, info)
      check_signal_target(call.nr, a[0], a[1], false);
      return;
    case SYS_tkill:  // (tid, sig)
      check_signal_target(call.nr, a[0], a[1], true);
      return;
    case SYS_tgkill:             // (tgid, tid, sig)
    case SYS_rt_tgsigqueueinfo:  // (tgid, tid, sig, info)
      check_signal_target(call.nr, a[0], a[2], false);
      return;
    case SYS_close:
      check_descriptor_untouched(call.nr, a[0]);
      return;
    case SYS_dup2:
    case SYS_dup3:
      check_descriptor_untouched(call.nr, a[1]);
      return;
    case SYS_close_range:
      check_range_untouched(call.nr, static_cast<std::uint32_t>(a[0]), static_cast<std::uint32_t>(a[1]));
      return;
    default:
      return;
  }
}

}  // namespace

RawCallResult perform_syscall(RawSyscall call) {
  if (call.ptrs.size() != call.bufs.size()) {
    malformed("syscall: " + std::to_string(call.bufs.size()) + " bufs but " + std::to_string(call.ptrs.size()) +
              " ptrs; each buf needs the arg slot that receives its address");
  }
  check_buffer_budget(call.bufs, 0);
  std::array<bool, kSyscallArgCount> slot_taken{};
  for (std::size_t i = 0; i < call.bufs.size(); ++i) {
    const std::size_t slot = call.ptrs[i];
    if (slot >= kSyscallArgCount) malformed("syscall: ptrs[" + std::to_string(i) + "] = " + std::to_string(slot) + " is not an arg slot (0-5)");
    if (slot_taken[slot]) malformed("syscall: two bufs for arg slot " + std::to_string(slot));
    slot_taken[slot] = true;
    call.args[slot] = static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(address_of(call.bufs[i])));
  }
  check_allowed(call);

  RawCallResult result;
  errno = 0;
  const auto& a = call.args;
  result.ret = ::syscall(call.nr, a[0], a[1], a[2], a[3], a[4], a[5]);
  result.error_number = result.ret == -1 ? errno : 0;
  result.out_bufs = std::move(call.bufs);
  return result;
}

RawCallResult perform_ioctl(RawIoctl call) {
  if (call.ptr_offsets.size() != call.bufs.size()) {
    malformed("ioctl: " + std::to_string(call.bufs.size()) + " bufs but " +
              std::to_string(call.ptr_offsets.size()) + " ptrOffsets");
  }
  if (!call.bufs.empty() && !call.data) malformed("ioctl: bufs need `data` to hold their addresses");
  check_buffer_budget(call.bufs, call.data ? call.data->size() : 0);
  for (std::size_t i = 0; i < call.bufs.size(); ++i) {
    const std::size_t offset = call.ptr_offsets[i];
    if (offset + sizeof(void*) > call.data->size()) {
      malformed("ioctl: ptrOffsets[" + std::to_string(i) + "] = " + std::to_string(offset) +
                " leaves no room for an address in " + std::to_string(call.data->size()) + " bytes of data");
    }
    void* address = address_of(call.bufs[i]);
    std::memcpy(call.data->data() + offset, &address, sizeof address);
  }

  RawCallResult result;
  errno = 0;
  const unsigned long third = call.data ? reinterpret_cast<unsigned long>(address_of(*call.data))
                                        : static_cast<unsigned long>(call.arg);
  result.ret = ::ioctl(call.fd, static_cast<unsigned long>(call.cmd), third);
  result.error_number = result.ret == -1 ? errno : 0;
  if (call.data) result.out_data = std::move(*call.data);
  result.out_bufs = std::move(call.bufs);
  return result;
}

}  // namespace provium::agent
