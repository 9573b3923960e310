// Signals as test code names them (proc:kill, proc:signal, worker:kill):
// nothing for SIGTERM, a number, or a friendly name ("term", "SIGKILL",
// "usr1", "9"), compared without regard to case.
#pragma once

#include <lua.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace provium::runner {

// The signal a name stands for: the documented names with or without "sig"
// and the numbers of the named ones as text; nothing when unknown.
std::optional<int> signal_by_name(std::string_view name);

// The signal at `index`: nil is SIGTERM, an integer is taken as is (1..64),
// a string goes through signal_by_name. Throws std::invalid_argument
// prefixed with `context` ("unknown signal name `X`", or the type given).
int read_signal(lua_State* L, int index, const std::string& context);

}  // namespace provium::runner
