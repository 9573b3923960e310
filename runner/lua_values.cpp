#include "lua_values.h"

#include <cmath>
#include <stdexcept>

namespace provium::runner {

std::string lua_type_name(lua_State* L, int index) { return luaL_typename(L, index); }

std::string read_string(lua_State* L, int index, const std::string& what) {
  if (lua_type(L, index) != LUA_TSTRING) {
    throw std::invalid_argument(what + " must be a string, got " + lua_type_name(L, index));
  }
  std::size_t size = 0;
  const char* text = lua_tolstring(L, index, &size);
  return std::string(text, size);
}

std::string read_text(lua_State* L, int index, const std::string& what) {
  std::string text = read_string(L, index, what);
  if (text.find('\0') != std::string::npos) throw std::invalid_argument(what + " must not contain NUL bytes");
  return text;
}

std::int64_t read_integer(lua_State* L, int index, const std::string& what) {
  int is_integer = 0;
  const lua_Integer value = lua_tointegerx(L, index, &is_integer);
  if (lua_type(L, index) != LUA_TNUMBER || !is_integer) {
    throw std::invalid_argument(what + " must be an integer, got " +
                                (lua_type(L, index) == LUA_TNUMBER ? std::string("a fractional number")
                                                                    : lua_type_name(L, index)));
  }
  return value;
}

Millis read_duration(lua_State* L, int index, const std::string& what) {
  try {
    if (lua_type(L, index) == LUA_TNUMBER) return seconds_to_duration(lua_tonumber(L, index));
    if (lua_type(L, index) == LUA_TSTRING) return parse_duration(lua_tostring(L, index));
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument("bad " + what + ": " + error.what());
  }
  throw std::invalid_argument("bad " + what + ": expected seconds or a duration string like \"30s\", got " +
                              lua_type_name(L, index));
}

int sequence_length(lua_State* L, int index) {
  index = lua_absindex(L, index);
  const lua_Unsigned length = lua_rawlen(L, index);
  lua_Unsigned keys = 0;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    lua_pop(L, 1);
    ++keys;
    if (!lua_isinteger(L, -1)) {
      lua_pop(L, 1);
      return -1;
    }
    const lua_Integer key = lua_tointeger(L, -1);
    if (key < 1 || static_cast<lua_Unsigned>(key) > length) {
      lua_pop(L, 1);
      return -1;
    }
  }
  return keys == length ? static_cast<int>(length) : -1;
}

}  // namespace provium::runner
