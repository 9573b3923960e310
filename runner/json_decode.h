// JSON text -> Lua value, following docs/reference/json: null becomes nil
// (absent keys, holes in arrays), integers within i64 stay exact, integers up
// to u64 max wrap to their i64 bit pattern, anything else is a float.
#pragma once

#include <lua.hpp>

#include <string_view>

namespace provium::runner {

// Pushes the decoded value. Throws std::invalid_argument naming the problem
// and its line and column.
void json_decode(lua_State* L, std::string_view text);

}  // namespace provium::runner
