// The `provium` global: the root lab. provium:vm(name, profile[, opts])
// declares, provium:vm(name) looks up (erroring when absent), provium.<name>
// looks up (nil when absent); provium.pack/unpack are string.pack/unpack;
// provium.timeout and provium.reset_between_tests are file settings.
#pragma once

#include "lab.h"

#include <lua.hpp>

namespace provium::runner {

// Installs the global (under run_protected()). `lab` must outlive the state.
void install_provium_global(lua_State* L, Lab& lab);

}  // namespace provium::runner
