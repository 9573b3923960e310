// The argument shapes of vm:run:
//   vm:run("echo hi")                       shell: /bin/sh -c "echo hi"
//   vm:run("echo", {"hi"})                  direct exec, positional args
//   vm:run("echo", {args={"hi"}, env=...})  opts form (any non-array key)
//   vm:run("echo hi", {timeout="5s"})       opts without args: shell
//   vm:run({"echo", "hi"}, opts?)           argv array
#pragma once

#include "guest_command.h"

#include <lua.hpp>

#include <string>

namespace provium::runner {

// Reads the command at `index` and the optional args/opts at `index + 1`.
// Throws std::invalid_argument prefixed with `context`.
GuestCommand read_guest_command(lua_State* L, int index, const std::string& context);

}  // namespace provium::runner
