// The RunResult userdata returned by vm:run: fields exit_code, stdout,
// stderr, status, timed_out, signal; methods ok() and assert_ok().
#pragma once

#include "guest_command.h"

#include <lua.hpp>

#include <string>

namespace provium::runner {

inline constexpr const char* kRunResultTypeName = "provium.RunResult";

// A result plus what assert_ok() needs to explain a failure.
struct CommandReport {
  CommandResult result;
  std::string vm_name;
  std::string command;
};

void register_command_result_type(lua_State* L);
void push_command_result(lua_State* L, CommandReport report);

// The assert_ok() failure text: status, exit code (signal name when
// signalled), stdout and stderr.
std::string describe_failed_command(const CommandReport& report);

}  // namespace provium::runner
