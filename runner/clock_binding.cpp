#include "clock_binding.h"

#include "lua_guard.h"
#include "lua_userdata.h"
#include "lua_values.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace provium::runner {
namespace {

Vm& self_vm(lua_State* L, const char* method) {
  GuestClock* clock = test_shared<GuestClock>(L, 1, kClockTypeName);
  if (clock == nullptr) {
    throw std::invalid_argument(std::string("clock:") + method + ": expected a Clock as self (call it as clock:" +
                                method + "(...) with `:`)");
  }
  return *clock->vm;
}

// Seconds (integer or finite float) as nanoseconds.
std::int64_t read_seconds_ns(lua_State* L, int index, const char* method) {
  const std::string what = std::string("clock:") + method;
  if (lua_isinteger(L, index)) {
    const lua_Integer seconds = lua_tointeger(L, index);
    constexpr lua_Integer kLimit = std::numeric_limits<std::int64_t>::max() / 1'000'000'000;
    if (seconds > kLimit || seconds < -kLimit) throw std::invalid_argument(what + ": value out of range");
    return seconds * 1'000'000'000;
  }
  if (lua_type(L, index) != LUA_TNUMBER) {
    throw std::invalid_argument(what + ": value must be a number, got " + lua_type_name(L, index));
  }
  const double seconds = lua_tonumber(L, index);
  if (!std::isfinite(seconds)) throw std::invalid_argument(what + ": value must be a finite number (got NaN/inf)");
  const double ns = std::round(seconds * 1e9);
  if (std::fabs(ns) >= 9.2e18) throw std::invalid_argument(what + ": value out of range");
  return static_cast<std::int64_t>(ns);
}

int clock_get(lua_State* L) {
  lua_pushnumber(L, static_cast<lua_Number>(self_vm(L, "get").clock_get_ns()) / 1e9);
  return 1;
}

int clock_get_ns(lua_State* L) {
  lua_pushinteger(L, self_vm(L, "get_ns").clock_get_ns());
  return 1;
}

int clock_set(lua_State* L) {
  Vm& vm = self_vm(L, "set");
  vm.clock_set_ns(read_seconds_ns(L, 2, "set"));
  return 0;
}

int clock_set_ns(lua_State* L) {
  Vm& vm = self_vm(L, "set_ns");
  vm.clock_set_ns(read_integer(L, 2, "clock:set_ns: ns"));
  return 0;
}

// get + set: the few microseconds between the two are lost, which a test
// moving the clock by seconds or more does not notice.
int clock_advance(lua_State* L) {
  Vm& vm = self_vm(L, "advance");
  const std::int64_t delta = read_seconds_ns(L, 2, "advance");
  vm.clock_set_ns(vm.clock_get_ns() + delta);
  return 0;
}

int clock_sleep(lua_State* L) {
  Vm& vm = self_vm(L, "sleep");
  vm.sleep(read_duration(L, 2, "clock:sleep: duration"));
  return 0;
}

constexpr luaL_Reg kMethods[] = {
    {"get", lua_entry<clock_get>},
    {"get_ns", lua_entry<clock_get_ns>},
    {"set", lua_entry<clock_set>},
    {"set_ns", lua_entry<clock_set_ns>},
    {"advance", lua_entry<clock_advance>},
    {"sleep", lua_entry<clock_sleep>},
    {nullptr, nullptr},
};

}  // namespace

void register_clock_type(lua_State* L) {
  new_shared_type<GuestClock>(L, kClockTypeName, kMethods);
  lua_pop(L, 1);
}

void push_clock(lua_State* L, std::shared_ptr<Vm> vm) {
  push_shared(L, kClockTypeName, std::make_shared<GuestClock>(GuestClock{std::move(vm)}));
}

}  // namespace provium::runner
