// The Process userdata (800-process.md) and vm:run_async: wait, kill, signal,
// pid, handle, status, stdin_write, close_stdin, stdout_stream,
// stderr_stream, close.
#pragma once

#include "guest_process.h"

#include <lua.hpp>

#include <memory>
#include <string>

namespace provium::runner {

inline constexpr const char* kProcessTypeName = "provium.Process";

class GuestWorker;

void register_process_type(lua_State* L);

// Reads a command at `index` (vm:run's forms; a timeout is refused, it
// belongs to proc:wait), spawns it through `worker` (null: the main agent),
// hands it to the current scope and pushes the Process.
void push_new_process(lua_State* L, int index, const std::shared_ptr<Vm>& vm,
                      const std::shared_ptr<GuestWorker>& worker, const std::string& context);

// vm:run_async(cmd, opts?), for the VM method table.
int vm_run_async(lua_State* L);

}  // namespace provium::runner
