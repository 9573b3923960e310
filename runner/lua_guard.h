// Crossing between C++ and Lua safely.
//
// The runner links the C++ build of Lua (liblua5.4-c++), whose errors are C++
// exceptions: a Lua error unwinding through our frames runs destructors. What
// Lua cannot carry is a foreign exception, so every C function we register is
// wrapped by lua_entry(), which turns std::exception into a Lua error. And
// any Lua API call that can raise must happen under a protected call
// (run_protected()), or Lua aborts the process.
#pragma once

#include <lua.hpp>

#include <exception>
#include <functional>
#include <optional>
#include <string>

namespace provium::runner {

// `Body` as a lua_CFunction that reports std::exception as a Lua error
// carrying the Lua caller's position, like luaL_error does.
template <int (*Body)(lua_State*)>
int lua_entry(lua_State* L) {
  try {
    return Body(L);
  } catch (const std::exception& error) {
    luaL_where(L, 1);
    lua_pushstring(L, error.what());
    lua_concat(L, 2);
  }
  return lua_error(L);
}

// Runs `work` in Lua protected mode. Returns the error text if it raised
// (a Lua error or a std::exception), nothing on success. The stack is left
// as `work` left it on success and restored on failure.
std::optional<std::string> run_protected(lua_State* L, const std::function<void(lua_State*)>& work);

// The error value on top of the stack as text, for reports.
std::string describe_error_value(lua_State* L, int index);

// Restores the stack height when it goes out of scope.
class StackGuard {
 public:
  explicit StackGuard(lua_State* L) : L_(L), top_(lua_gettop(L)) {}
  ~StackGuard() { lua_settop(L_, top_); }
  StackGuard(const StackGuard&) = delete;
  StackGuard& operator=(const StackGuard&) = delete;

 private:
  lua_State* L_;
  int top_;
};

}  // namespace provium::runner
