// C++ objects exposed to Lua as full userdata holding a std::shared_ptr.
// __gc only resets the pointer (a finalized object can be resurrected by
// another finalizer; it then reads as "no longer valid" instead of freed
// memory). Metatables carry __metatable so test code cannot reach __gc.
#pragma once

#include <lua.hpp>

#include <memory>
#include <new>

namespace provium::runner {

template <typename T>
void push_shared(lua_State* L, const char* type_name, std::shared_ptr<T> object) {
  void* memory = lua_newuserdatauv(L, sizeof(std::shared_ptr<T>), 0);
  new (memory) std::shared_ptr<T>(std::move(object));
  luaL_setmetatable(L, type_name);
}

// The object at `index` if it is a `type_name` userdata that is still valid.
template <typename T>
T* test_shared(lua_State* L, int index, const char* type_name) {
  auto* slot = static_cast<std::shared_ptr<T>*>(luaL_testudata(L, index, type_name));
  return slot != nullptr ? slot->get() : nullptr;
}

template <typename T>
std::shared_ptr<T> test_shared_owner(lua_State* L, int index, const char* type_name) {
  auto* slot = static_cast<std::shared_ptr<T>*>(luaL_testudata(L, index, type_name));
  return slot != nullptr ? *slot : nullptr;
}

template <typename T>
int collect_shared(lua_State* L) {
  auto* slot = static_cast<std::shared_ptr<T>*>(lua_touserdata(L, 1));
  if (slot != nullptr) slot->reset();
  return 0;
}

// Creates the metatable `type_name` with `methods` as __index (when given),
// __gc and a locked __metatable. Leaves it on the stack.
template <typename T>
void new_shared_type(lua_State* L, const char* type_name, const luaL_Reg* methods) {
  luaL_newmetatable(L, type_name);
  if (methods != nullptr) {
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
  }
  lua_pushcfunction(L, collect_shared<T>);
  lua_setfield(L, -2, "__gc");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
}

}  // namespace provium::runner
