#include "command_result_binding.h"

#include "lua_guard.h"
#include "lua_userdata.h"

#include <cstring>
#include <memory>
#include <stdexcept>

namespace provium::runner {
namespace {

// Enough of each stream to see what went wrong without flooding the report.
constexpr std::size_t kStreamExcerptBytes = 4096;

const char* status_name(CommandStatus status) {
  switch (status) {
    case CommandStatus::exited: return "exited";
    case CommandStatus::signalled: return "signalled";
    case CommandStatus::timed_out: return "timed_out";
  }
  return "unknown";
}

std::string signal_name(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(signal);
}

std::string excerpt(const std::string& stream) {
  if (stream.empty()) return "(empty)";
  if (stream.size() <= kStreamExcerptBytes) return stream;
  return "(" + std::to_string(stream.size() - kStreamExcerptBytes) + " earlier bytes omitted)\n" +
         stream.substr(stream.size() - kStreamExcerptBytes);
}

const CommandReport& self_report(lua_State* L) {
  const CommandReport* report = test_shared<CommandReport>(L, 1, kRunResultTypeName);
  if (report == nullptr) throw std::invalid_argument("expected a RunResult as self (call it with `:`)");
  return *report;
}

int result_ok(lua_State* L) {
  lua_pushboolean(L, self_report(L).result.exit_code == 0);
  return 1;
}

int result_assert_ok(lua_State* L) {
  const CommandReport& report = self_report(L);
  if (report.result.exit_code != 0) throw std::runtime_error(describe_failed_command(report));
  lua_settop(L, 1);
  return 1;
}

void push_bytes(lua_State* L, const std::string& bytes) { lua_pushlstring(L, bytes.data(), bytes.size()); }

int result_index(lua_State* L) {
  const CommandResult& result = self_report(L).result;
  const char* key = lua_tostring(L, 2);
  if (key == nullptr) return 0;
  if (std::strcmp(key, "exit_code") == 0) lua_pushinteger(L, result.exit_code);
  else if (std::strcmp(key, "stdout") == 0) push_bytes(L, result.stdout_data);
  else if (std::strcmp(key, "stderr") == 0) push_bytes(L, result.stderr_data);
  else if (std::strcmp(key, "status") == 0) lua_pushstring(L, status_name(result.status));
  else if (std::strcmp(key, "timed_out") == 0) lua_pushboolean(L, result.status == CommandStatus::timed_out);
  else if (std::strcmp(key, "signal") == 0) {
    if (result.status == CommandStatus::signalled) lua_pushinteger(L, result.signal);
    else lua_pushnil(L);
  } else if (std::strcmp(key, "ok") == 0) lua_pushcfunction(L, lua_entry<result_ok>);
  else if (std::strcmp(key, "assert_ok") == 0) lua_pushcfunction(L, lua_entry<result_assert_ok>);
  else lua_pushnil(L);
  return 1;
}

int result_tostring(lua_State* L) {
  const CommandReport& report = self_report(L);
  lua_pushfstring(L, "RunResult(%s, exit code %d)", status_name(report.result.status),
                  static_cast<int>(report.result.exit_code));
  return 1;
}

}  // namespace

std::string describe_failed_command(const CommandReport& report) {
  const CommandResult& result = report.result;
  std::string status = std::string("status ") + status_name(result.status);
  if (result.status == CommandStatus::signalled) status += " (" + signal_name(result.signal) + ")";
  return "vm `" + report.vm_name + "`: command `" + report.command + "` failed: " + status + ", exit code " +
         std::to_string(result.exit_code) + "\nstdout: " + excerpt(result.stdout_data) +
         "\nstderr: " + excerpt(result.stderr_data);
}

void register_command_result_type(lua_State* L) {
  new_shared_type<CommandReport>(L, kRunResultTypeName, nullptr);
  lua_pushcfunction(L, lua_entry<result_index>);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, lua_entry<result_tostring>);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

void push_command_result(lua_State* L, CommandReport report) {
  push_shared(L, kRunResultTypeName, std::make_shared<CommandReport>(std::move(report)));
}

}  // namespace provium::runner
