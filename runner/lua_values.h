// Reading Lua values into C++ with errors that say what was expected where.
// These throw std::invalid_argument, so they belong inside lua_entry().
#pragma once

#include <lua.hpp>

#include <cstdint>
#include <string>

#include <duration.h>

namespace provium::runner {

std::string lua_type_name(lua_State* L, int index);

// A string (numbers are not silently converted).
std::string read_string(lua_State* L, int index, const std::string& what);
// A string that travels as Cap'n Proto Text (names, paths, argv): NUL bytes
// are refused, since the receiver would silently cut the string there.
std::string read_text(lua_State* L, int index, const std::string& what);
// An integer, or a float with an exact integer value.
std::int64_t read_integer(lua_State* L, int index, const std::string& what);
// Seconds as a number, or a duration string ("500ms", "30s", "5m", "2h").
Millis read_duration(lua_State* L, int index, const std::string& what);

// Calls `visit(key)` for each string key of the table at `index`, with the
// value on top of the stack; non-string keys are an error.
template <typename Visit>
void for_each_field(lua_State* L, int index, const std::string& what, Visit&& visit) {
  index = lua_absindex(L, index);
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      lua_pop(L, 2);
      throw std::invalid_argument(what + ": keys must be strings");
    }
    const std::string key = lua_tostring(L, -2);
    visit(key);
    lua_pop(L, 1);
  }
}

// The length of the array part if the table at `index` is a pure sequence
// (keys 1..n, nothing else), -1 otherwise. An empty table counts as one.
int sequence_length(lua_State* L, int index);

}  // namespace provium::runner
