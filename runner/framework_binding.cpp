#include "framework_binding.h"

#include "lua_guard.h"
#include "lua_values.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace provium::runner {

extern const std::string_view kFrameworkLua;  // framework.lua, embedded at build time

namespace {

constexpr const char* kFrameworkKey = "provium.framework";
constexpr const char* kFilterKey = "provium.filter";
constexpr const char* kFrameworkChunkName = "=[provium framework]";

TestClock& clock_of(lua_State* L) { return *static_cast<TestClock*>(lua_touserdata(L, lua_upvalueindex(1))); }

int host_now(lua_State* L) {
  const auto since_start = SteadyClock::now().time_since_epoch();
  lua_pushnumber(L, std::chrono::duration<double>(since_start).count());
  return 1;
}

// Sleeps, but never past the test's deadline; raises the timeout if that is
// what ended the sleep.
int host_sleep(lua_State* L) {
  TestClock& clock = clock_of(L);
  const double seconds = luaL_checknumber(L, 1);
  if (!(seconds > 0)) return 0;
  auto pause = std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(seconds));
  if (const auto left = clock.deadline().remaining()) pause = std::min(pause, *left);
  std::this_thread::sleep_for(pause);
  clock.check();
  return 0;
}

// host.seconds(value, what) -> seconds | nil, "bad <what>: <reason>"
int host_seconds(lua_State* L) {
  const std::string what = luaL_optstring(L, 2, "duration");
  try {
    const Millis value = read_duration(L, 1, what);
    lua_pushnumber(L, static_cast<double>(value.count()) / 1000.0);
    return 1;
  } catch (const std::invalid_argument& error) {
    luaL_pushfail(L);
    lua_pushstring(L, error.what());
    return 2;
  }
}

void push_host_table(lua_State* L, TestClock& clock) {
  lua_newtable(L);
  lua_pushcfunction(L, lua_entry<host_now>);
  lua_setfield(L, -2, "now");
  lua_pushlightuserdata(L, &clock);
  lua_pushcclosure(L, lua_entry<host_sleep>, 1);
  lua_setfield(L, -2, "sleep");
  lua_pushcfunction(L, lua_entry<host_seconds>);
  lua_setfield(L, -2, "seconds");
  // The full debug library stays out of reach of test code; the framework
  // only needs getinfo to report assertion positions.
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  luaL_requiref(L, LUA_DBLIBNAME, luaopen_debug, 0);
  lua_getfield(L, -1, "getinfo");
  lua_setfield(L, -4, "getinfo");
  lua_pop(L, 2);
}

void push_string_list(lua_State* L, const std::vector<std::string>& items) {
  lua_createtable(L, static_cast<int>(items.size()), 0);
  for (std::size_t i = 0; i < items.size(); ++i) {
    lua_pushlstring(L, items[i].data(), items[i].size());
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
}

void push_pairs(lua_State* L, const std::vector<std::pair<std::string, std::string>>& pairs) {
  lua_createtable(L, static_cast<int>(pairs.size()), 0);
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, pairs[i].first.c_str());
    lua_setfield(L, -2, "key");
    lua_pushstring(L, pairs[i].second.c_str());
    lua_setfield(L, -2, "value");
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
}

void push_filter(lua_State* L, const TestFilter& filter) {
  lua_newtable(L);
  lua_pushboolean(L, filter.include_slow);
  lua_setfield(L, -2, "include_slow");
  push_string_list(L, filter.tags);
  lua_setfield(L, -2, "tags");
  push_string_list(L, filter.no_tags);
  lua_setfield(L, -2, "no_tags");
  push_pairs(L, filter.tag_meta);
  lua_setfield(L, -2, "tag_meta");
  push_pairs(L, filter.no_tag_meta);
  lua_setfield(L, -2, "no_tag_meta");
}

void push_framework(lua_State* L) { lua_getfield(L, LUA_REGISTRYINDEX, kFrameworkKey); }

// Pushes framework.tests[index].
void push_entry(lua_State* L, int index) {
  push_framework(L);
  lua_getfield(L, -1, "tests");
  lua_rawgeti(L, -1, index);
  lua_replace(L, -3);
  lua_pop(L, 1);
}

std::string string_at(lua_State* L, int index) {
  std::size_t size = 0;
  const char* text = lua_tolstring(L, index, &size);
  return text != nullptr ? std::string(text, size) : std::string();
}

}  // namespace

void install_framework(lua_State* L, TestClock& clock, const TestFilter& filter) {
  if (luaL_loadbufferx(L, kFrameworkLua.data(), kFrameworkLua.size(), kFrameworkChunkName, "t") != LUA_OK) {
    throw std::runtime_error("cannot load the embedded framework: " + describe_error_value(L, -1));
  }
  push_host_table(L, clock);
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "globals");
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_setglobal(L, lua_tostring(L, -2));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, kFrameworkKey);
  push_filter(L, filter);
  lua_setfield(L, LUA_REGISTRYINDEX, kFilterKey);
}

int registered_test_count(lua_State* L) {
  StackGuard guard(L);
  push_framework(L);
  lua_getfield(L, -1, "tests");
  return static_cast<int>(lua_rawlen(L, -1));
}

std::string registered_test_name(lua_State* L, int index) {
  StackGuard guard(L);
  push_entry(L, index);
  lua_getfield(L, -1, "name");
  return string_at(L, -1);
}

std::optional<std::string> registered_test_skip_reason(lua_State* L, int index) {
  StackGuard guard(L);
  push_framework(L);
  lua_getfield(L, -1, "skip_reason");
  push_entry(L, index);
  lua_getfield(L, LUA_REGISTRYINDEX, kFilterKey);
  lua_call(L, 2, 1);
  if (lua_isnil(L, -1)) return std::nullopt;
  return string_at(L, -1);
}

std::optional<Millis> registered_test_timeout(lua_State* L, int index) {
  StackGuard guard(L);
  push_entry(L, index);
  lua_getfield(L, -1, "meta");
  lua_getfield(L, -1, "timeout");
  if (lua_isnil(L, -1)) return std::nullopt;
  return read_duration(L, -1, "meta.timeout");
}

BodyResult run_registered_test(lua_State* L, int index) {
  StackGuard guard(L);
  push_framework(L);
  lua_getfield(L, -1, "run");
  push_entry(L, index);
  BodyResult result;
  if (lua_pcall(L, 1, 4, 0) != LUA_OK) {
    // Only an error outside the body gets here (e.g. the deadline hook
    // firing while the outcome is classified).
    result.status = TestStatus::failed;
    result.message = describe_error_value(L, -1);
    return result;
  }
  const std::string status = string_at(L, -4);
  result.status = status == "passed" ? TestStatus::passed
                  : status == "skipped" ? TestStatus::skipped
                                        : TestStatus::failed;
  result.message = string_at(L, -3);
  if (lua_istable(L, -2)) {
    const auto count = lua_rawlen(L, -2);
    for (lua_Unsigned i = 1; i <= count; ++i) {
      lua_rawgeti(L, -2, static_cast<lua_Integer>(i));
      if (lua_type(L, -1) == LUA_TSTRING) result.log.push_back(string_at(L, -1));
      lua_pop(L, 1);
    }
  }
  result.failure_with_position = string_at(L, -1);
  return result;
}

}  // namespace provium::runner
