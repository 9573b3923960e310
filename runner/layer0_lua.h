// vm:syscall and vm:ioctl arguments and results between Lua and C++.
// Readers throw std::invalid_argument (use inside lua_entry()).
#pragma once

#include "layer0.h"

#include <lua.hpp>

#include <string>

namespace provium::runner {

// vm:syscall(nr, a1..a6) or vm:syscall(nr, {args=, bufs=, ptrs=}); `first`
// is the stack index of nr.
SyscallCall read_syscall_call(lua_State* L, int first, const std::string& context);
// vm:ioctl(fd, cmd, data?, {bufs=, ptr_offsets=}?) from stack index `first`.
IoctlCall read_ioctl_call(lua_State* L, int first, const std::string& context);
// {ret, result, errno, out_bufs[, out_data]}
void push_layer0_result(lua_State* L, const Layer0Result& result);

}  // namespace provium::runner
