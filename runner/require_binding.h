// `require(name)`: the supervisor resolves the module (Session.loadModule,
// confined to its configured roots) and returns its source; we load it in
// text mode under the returned chunk name and cache the result like Lua's
// own require.
#pragma once

#include "supervisor_link.h"

#include <lua.hpp>

namespace provium::runner {

// `link` must outlive the state.
void install_require_global(lua_State* L, SupervisorLink& link);

}  // namespace provium::runner
