#include "json_binding.h"

#include "json_decode.h"
#include "json_encode.h"
#include "lua_guard.h"

#include <stdexcept>
#include <string>

namespace provium::runner {
namespace {

int encode(lua_State* L) {
  lua_settop(L, 1);
  const std::string text = json_encode(L, 1);
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

int decode(lua_State* L) {
  if (lua_type(L, 1) != LUA_TSTRING) {
    throw std::invalid_argument(std::string("json.decode: expected a string, got ") + luaL_typename(L, 1));
  }
  std::size_t size = 0;
  const char* text = lua_tolstring(L, 1, &size);
  json_decode(L, std::string_view(text, size));
  return 1;
}

constexpr luaL_Reg kFunctions[] = {
    {"encode", lua_entry<encode>},
    {"decode", lua_entry<decode>},
    {nullptr, nullptr},
};

}  // namespace

void install_json_global(lua_State* L) {
  luaL_newlib(L, kFunctions);
  lua_setglobal(L, "json");
}

}  // namespace provium::runner
