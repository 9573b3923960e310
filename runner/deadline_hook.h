// Interrupts Lua code that runs past the test's deadline: a count hook checks
// the clock every few thousand VM instructions and raises the timeout. Once
// the deadline has passed it checks after every instruction, so a test that
// swallows the error with pcall is interrupted again as soon as it returns
// to code outside that pcall.
#pragma once

#include "test_clock.h"

#include <lua.hpp>

namespace provium::runner {

// Installs the hook on `L` (coroutines created from it inherit it). `clock`
// must outlive the state.
void install_deadline_hook(lua_State* L, TestClock& clock);

// Back to the normal check interval after a test that timed out.
void reset_deadline_hook(lua_State* L);

}  // namespace provium::runner
