// Layer-0 requests and results (raw syscall / ioctl in the agent process;
// see SyscallRequest and IoctlRequest in ipc/agent.capnp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace provium::runner {

struct SyscallCall {
  std::int64_t nr = 0;
  std::vector<std::int64_t> args;   // up to 6
  std::vector<std::string> bufs;    // copied into agent memory
  std::vector<std::uint8_t> ptrs;   // bufs[i]'s address replaces args[ptrs[i]]
};

struct IoctlCall {
  std::int32_t fd = 0;
  std::uint64_t cmd = 0;
  std::uint64_t arg = 0;                 // when there is no data
  std::optional<std::string> data;       // its address is the third argument
  std::vector<std::string> bufs;
  std::vector<std::uint32_t> ptr_offsets;  // where in data bufs[i]'s address goes
};

struct Layer0Result {
  std::int64_t ret = 0;
  std::int32_t error_number = 0;
  std::optional<std::string> out_data;  // ioctl only
  std::vector<std::string> out_bufs;
};

}  // namespace provium::runner
