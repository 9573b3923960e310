// The part of Lua's standard library a test file may use: base (without
// dofile/loadfile, with a text-only `load`), string, table, math, utf8,
// coroutine, os limited to clock/time/date/difftime, and debug.traceback.
// No io, no package (so no loadlib), no way to reach the host filesystem.
#pragma once

#include <lua.hpp>

namespace provium::runner {

// Must run under run_protected(). `print` writes to stdout (the log pipe).
void open_safe_stdlib(lua_State* L);

}  // namespace provium::runner
