#include "safe_stdlib.h"

#include "lua_guard.h"
#include "stdio_write.h"

#include <cstring>
#include <string>

namespace provium::runner {
namespace {

// `load` with the mode forced to text: a binary chunk can bypass the
// bytecode verifier Lua does not have, so it is refused outright.
int text_only_load(lua_State* L) {
  if (!lua_isnoneornil(L, 3)) {
    const char* mode = luaL_checkstring(L, 3);
    if (std::strchr(mode, 'b') != nullptr) {
      luaL_pushfail(L);
      lua_pushstring(L, "load: binary chunks are not allowed in test files (use mode \"t\")");
      return 2;
    }
  }
  if (lua_gettop(L) < 3) lua_settop(L, 3);
  lua_pushliteral(L, "t");
  lua_replace(L, 3);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

int print_to_stdout(lua_State* L) {
  const int count = lua_gettop(L);
  std::string line;
  for (int i = 1; i <= count; ++i) {
    std::size_t size = 0;
    const char* text = luaL_tolstring(L, i, &size);
    if (i > 1) line += '\t';
    line.append(text, size);
    lua_pop(L, 1);
  }
  line += '\n';
  write_all_to_fd(1, line);
  return 0;
}

void require_lib(lua_State* L, const char* name, lua_CFunction open, bool global) {
  luaL_requiref(L, name, open, global ? 1 : 0);
  lua_pop(L, 1);
}

void strip_base(lua_State* L) {
  for (const char* name : {"dofile", "loadfile"}) {
    lua_pushnil(L);
    lua_setglobal(L, name);
  }
  lua_getglobal(L, "load");
  lua_pushcclosure(L, lua_entry<text_only_load>, 1);
  lua_setglobal(L, "load");
  lua_pushcfunction(L, lua_entry<print_to_stdout>);
  lua_setglobal(L, "print");
}

// Copies the listed fields of the library `source_name` into a new global
// table `name`.
void install_subset(lua_State* L, const char* name, lua_CFunction open, std::initializer_list<const char*> keep) {
  luaL_requiref(L, name, open, 0);
  lua_createtable(L, 0, static_cast<int>(keep.size()));
  for (const char* field : keep) {
    lua_getfield(L, -2, field);
    lua_setfield(L, -2, field);
  }
  lua_setglobal(L, name);
  lua_pop(L, 1);
}

}  // namespace

void open_safe_stdlib(lua_State* L) {
  require_lib(L, LUA_GNAME, luaopen_base, true);
  require_lib(L, LUA_STRLIBNAME, luaopen_string, true);
  require_lib(L, LUA_TABLIBNAME, luaopen_table, true);
  require_lib(L, LUA_MATHLIBNAME, luaopen_math, true);
  require_lib(L, LUA_UTF8LIBNAME, luaopen_utf8, true);
  require_lib(L, LUA_COLIBNAME, luaopen_coroutine, true);
  install_subset(L, LUA_OSLIBNAME, luaopen_os, {"clock", "time", "date", "difftime"});
  install_subset(L, LUA_DBLIBNAME, luaopen_debug, {"traceback"});
  strip_base(L);
  // string.dump makes binary chunks; nothing here can load them anyway.
  lua_getglobal(L, LUA_STRLIBNAME);
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);
}

}  // namespace provium::runner
