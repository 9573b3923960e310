// Clock userdata (vm:clock()): the guest's wall clock — get/get_ns,
// set/set_ns, advance — and a host-side sleep.
#pragma once

#include "vm.h"

#include <lua.hpp>

#include <memory>

namespace provium::runner {

inline constexpr const char* kClockTypeName = "provium.Clock";

// The guest clock of one VM; holds no state of its own.
struct GuestClock {
  std::shared_ptr<Vm> vm;
};

void register_clock_type(lua_State* L);
void push_clock(lua_State* L, std::shared_ptr<Vm> vm);

}  // namespace provium::runner
