// The `json` global: json.encode(value) and json.decode(text).
#pragma once

#include <lua.hpp>

namespace provium::runner {

void install_json_global(lua_State* L);

}  // namespace provium::runner
