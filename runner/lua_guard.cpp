#include "lua_guard.h"

namespace provium::runner {
namespace {

int call_work(lua_State* L) {
  auto* work = static_cast<const std::function<void(lua_State*)>*>(lua_touserdata(L, 1));
  lua_remove(L, 1);
  (*work)(L);
  return 0;
}

}  // namespace

std::optional<std::string> run_protected(lua_State* L, const std::function<void(lua_State*)>& work) {
  const int top = lua_gettop(L);
  if (!lua_checkstack(L, 2)) return std::string("Lua stack overflow");
  lua_pushcfunction(L, lua_entry<call_work>);
  lua_pushlightuserdata(L, const_cast<std::function<void(lua_State*)>*>(&work));
  if (lua_pcall(L, 1, 0, 0) == LUA_OK) return std::nullopt;
  std::string message = describe_error_value(L, -1);
  lua_settop(L, top);
  return message;
}

std::string describe_error_value(lua_State* L, int index) {
  if (lua_type(L, index) == LUA_TSTRING) {
    std::size_t size = 0;
    const char* text = lua_tolstring(L, index, &size);
    return std::string(text, size);
  }
  if (luaL_getmetafield(L, index, "__tostring") != LUA_TNIL) {
    lua_pop(L, 1);
    // luaL_tolstring may raise from a user __tostring; keep its own result.
    const int absolute = lua_absindex(L, index);
    std::string text;
    lua_pushcfunction(L, [](lua_State* S) -> int {
      luaL_tolstring(S, 1, nullptr);
      return 1;
    });
    lua_pushvalue(L, absolute);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) {
      text = lua_tostring(L, -1);
    } else {
      text = "(error object whose __tostring failed)";
    }
    lua_pop(L, 1);
    return text;
  }
  return std::string("(error object is a ") + luaL_typename(L, index) + " value)";
}

}  // namespace provium::runner
