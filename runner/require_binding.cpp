#include "require_binding.h"

#include "lua_guard.h"
#include "lua_values.h"

#include <stdexcept>
#include <string>

namespace provium::runner {
namespace {

// Marks a module whose chunk is still running, to report require cycles.
constexpr const char* kLoadingMarker = "provium.require.loading";

int require_module(lua_State* L) {
  auto& link = *static_cast<SupervisorLink*>(lua_touserdata(L, lua_upvalueindex(1)));
  const int cache = lua_upvalueindex(2);
  const std::string name = read_text(L, 1, "require: module name");
  lua_settop(L, 1);

  lua_getfield(L, cache, name.c_str());
  if (lua_type(L, -1) == LUA_TLIGHTUSERDATA) {
    throw std::runtime_error("require: module `" + name + "` requires itself (circular require)");
  }
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 1);

  ModuleSource module;
  try {
    module = link.load_module(name);
  } catch (const std::exception& error) {
    throw std::runtime_error("require: module `" + name + "` not found: " + error.what());
  }
  if (luaL_loadbufferx(L, module.source.data(), module.source.size(), module.chunk_name.c_str(), "t") != LUA_OK) {
    throw std::runtime_error("require: cannot load module `" + name + "`: " + describe_error_value(L, -1));
  }
  lua_pushlightuserdata(L, const_cast<char*>(kLoadingMarker));
  lua_setfield(L, cache, name.c_str());
  lua_pushvalue(L, 1);
  lua_pushstring(L, module.chunk_name.c_str());
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
    lua_pushnil(L);
    lua_setfield(L, cache, name.c_str());
    return lua_error(L);  // the module's own error, with its position
  }
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, cache, name.c_str());
  return 1;
}

}  // namespace

void install_require_global(lua_State* L, SupervisorLink& link) {
  lua_pushlightuserdata(L, &link);
  lua_newtable(L);
  lua_pushcclosure(L, lua_entry<require_module>, 2);
  lua_setglobal(L, "require");
}

}  // namespace provium::runner
