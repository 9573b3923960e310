// Console userdata (vm:console(), 1100-console.md): read() (a Stream over
// the console), read_log(), expect(pattern, timeout?), write(data, opts?)
// and close() (nothing to release: the console belongs to the VM).
#pragma once

#include "vm.h"

#include <lua.hpp>

#include <memory>

namespace provium::runner {

inline constexpr const char* kConsoleTypeName = "provium.Console";

// The console of one VM; holds no state of its own.
struct GuestConsole {
  std::shared_ptr<Vm> vm;
};

void register_console_type(lua_State* L);
void push_console(lua_State* L, std::shared_ptr<Vm> vm);

}  // namespace provium::runner
