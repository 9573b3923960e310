// The Worker userdata (900-worker.md) and vm:spawn_worker: run, run_async,
// open_file, read_file, write_file, stat, listdir, mkdir, unlink, rename,
// syscall, kill, join, handle, pid, close.
#pragma once

#include "guest_worker.h"

#include <lua.hpp>

namespace provium::runner {

inline constexpr const char* kWorkerTypeName = "provium.Worker";

void register_worker_type(lua_State* L);

// vm:spawn_worker(opts?), for the VM method table.
int vm_spawn_worker(lua_State* L);

}  // namespace provium::runner
