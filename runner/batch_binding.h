// vm:batch(fn): fn(b) records ops on a collector (b:run, read_file,
// write_file, stat, listdir, mkdir, unlink, rename, syscall), which are then
// sent to the agent together and answered as an array of {ok = value} or
// {err = message}, one per op; one op failing does not stop the others.
#pragma once

#include <lua.hpp>

namespace provium::runner {

inline constexpr const char* kBatchTypeName = "provium.Batch";

void register_batch_type(lua_State* L);

// vm:batch(fn), for the VM method table.
int vm_batch(lua_State* L);

}  // namespace provium::runner
