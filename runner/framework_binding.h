// The bridge between the C++ file runner and framework.lua: loads the
// framework into a state, installs test/todo/wait_until, and lets the runner
// ask about and run the registered tests. Every function here must be called
// under run_protected().
#pragma once

#include "file_job.h"
#include "test_clock.h"

#include <lua.hpp>

#include <optional>
#include <string>
#include <vector>

#include <duration.h>

namespace provium::runner {

// Loads the embedded framework. `clock` bounds host.sleep (wait_until).
void install_framework(lua_State* L, TestClock& clock, const TestFilter& filter);

int registered_test_count(lua_State* L);
std::string registered_test_name(lua_State* L, int index);  // 1-based
// The reason the test must not run (meta.skip, filters, todo()), if any.
std::optional<std::string> registered_test_skip_reason(lua_State* L, int index);
// meta.timeout, already validated at registration; zero means "no limit".
std::optional<Millis> registered_test_timeout(lua_State* L, int index);

struct BodyResult {
  TestStatus status = TestStatus::passed;
  std::string message;
  std::vector<std::string> log;
  std::string failure_with_position;  // set when `message` had it stripped
};

// Runs the test body with a fresh `t` context and classifies the outcome.
BodyResult run_registered_test(lua_State* L, int index);

}  // namespace provium::runner
