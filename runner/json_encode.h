// Lua value -> JSON text, following docs/reference/json: a table whose keys
// are all positive integers is an array padded with null up to its largest
// key; any other table is an object (integer keys stringified, keys sorted).
#pragma once

#include <lua.hpp>

#include <string>

namespace provium::runner {

// Encodes the value at `index`. Throws std::invalid_argument on cycles,
// functions/userdata, unusable keys, invalid UTF-8 or absurd sparseness.
std::string json_encode(lua_State* L, int index);

}  // namespace provium::runner
