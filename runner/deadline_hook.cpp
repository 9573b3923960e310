#include "deadline_hook.h"

namespace provium::runner {
namespace {

// Cheap enough (a vDSO clock read) to keep the overhead negligible, frequent
// enough that a tight loop is stopped within microseconds of the deadline.
constexpr int kInstructionsPerCheck = 4096;

TestClock* clock_of(lua_State* L) { return *static_cast<TestClock**>(lua_getextraspace(L)); }

void on_count(lua_State* L, lua_Debug*) {
  TestClock* clock = clock_of(L);
  if (clock != nullptr && clock->note_if_expired()) {
    lua_sethook(L, on_count, LUA_MASKCOUNT, 1);
    luaL_error(L, "%s", clock->message().c_str());
  }
}

}  // namespace

void install_deadline_hook(lua_State* L, TestClock& clock) {
  // New threads copy the main thread's extra space, so coroutines see it too.
  *static_cast<TestClock**>(lua_getextraspace(L)) = &clock;
  reset_deadline_hook(L);
}

void reset_deadline_hook(lua_State* L) { lua_sethook(L, on_count, LUA_MASKCOUNT, kInstructionsPerCheck); }

}  // namespace provium::runner
