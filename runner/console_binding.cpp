#include "console_binding.h"

#include "console_stream_source.h"
#include "guest_stream.h"
#include "lua_guard.h"
#include "lua_userdata.h"
#include "lua_values.h"
#include "stream_binding.h"

#include <poll.h>

#include <chrono>
#include <stdexcept>
#include <string>

namespace provium::runner {
namespace {

// console:expect polls the kept log this often, for this long by default.
constexpr std::chrono::milliseconds kExpectPollInterval{50};
constexpr std::chrono::milliseconds kExpectDefaultTimeout{30'000};

const std::shared_ptr<Vm>& self_vm(lua_State* L, const char* method) {
  auto* console = static_cast<std::shared_ptr<GuestConsole>*>(luaL_testudata(L, 1, kConsoleTypeName));
  if (console == nullptr || !*console) {
    throw std::invalid_argument(std::string("console:") + method +
                                ": expected a Console as self (call it as console:" + method + "(...) with `:`)");
  }
  return (*console)->vm;
}

std::string context(const Vm& vm, const char* method) { return "vm `" + vm.name() + "`: console:" + method; }

int console_read(lua_State* L) {
  const std::shared_ptr<Vm>& vm = self_vm(L, "read");
  auto source = std::make_unique<ConsoleStreamSource>(vm, vm->open_console_output());
  auto stream = std::make_shared<GuestStream>(vm->name(), std::move(source), "console", "");
  push_stream(L, stream);
  vm->note_open([weak = std::weak_ptr<GuestStream>(stream)]() -> std::optional<std::string> {
    auto open = weak.lock();
    if (!open || open->is_closed()) return std::nullopt;
    return describe_opened("console stream", open->creation_site());
  });
  return 1;
}

int console_read_log(lua_State* L) {
  const std::string log = self_vm(L, "read_log")->console_log();
  lua_pushlstring(L, log.data(), log.size());
  return 1;
}

int console_expect(lua_State* L) {
  Vm& vm = *self_vm(L, "expect");
  const std::string pattern = read_string(L, 2, context(vm, "expect") + ": pattern");
  if (pattern.empty()) throw std::invalid_argument(context(vm, "expect") + ": the pattern is empty");
  const auto timeout = lua_isnoneornil(L, 3)
                           ? kExpectDefaultTimeout
                           : std::chrono::milliseconds(read_duration(L, 3, context(vm, "expect") + ": timeout").count());
  const Deadline give_up = Deadline::after(timeout);
  for (;;) {
    if (vm.console_log().find(pattern) != std::string::npos) break;
    if (give_up.expired()) {
      throw std::runtime_error(context(vm, "expect") + ": `" + pattern + "` did not appear on the console within " +
                               std::to_string(timeout.count()) + "ms");
    }
    const Deadline nap = Deadline::after(kExpectPollInterval).earliest(give_up).earliest(vm.test_deadline());
    ::poll(nullptr, 0, nap.poll_timeout_ms());  // poll: allowed by the sandbox
    vm.check_test_deadline();
  }
  lua_pushlstring(L, pattern.data(), pattern.size());
  return 1;
}

// opts: {timeout = seconds | "500ms"}; 0 means no limit of its own.
Deadline read_write_wait(lua_State* L, int index, const std::string& what) {
  Deadline wait = Deadline::none();
  if (lua_isnoneornil(L, index)) return wait;
  if (!lua_istable(L, index)) {
    throw std::invalid_argument(what + ": options must be a table, got " + lua_type_name(L, index));
  }
  for_each_field(L, index, what + ": options", [&](const std::string& key) {
    if (key == "timeout_ms") {
      throw std::invalid_argument(what + ": opts.timeout_ms is not supported (use timeout = \"500ms\" or timeout = 0.5)");
    }
    if (key != "timeout") throw std::invalid_argument(what + ": unknown option `" + key + "` (known: timeout)");
    const Millis timeout = read_duration(L, -1, what + ": timeout");
    if (timeout.count() > 0) wait = Deadline::after(std::chrono::milliseconds(timeout.count()));
  });
  return wait;
}

int console_write(lua_State* L) {
  Vm& vm = *self_vm(L, "write");
  const std::string data = read_string(L, 2, context(vm, "write") + ": data");
  const Deadline wait = read_write_wait(L, 3, context(vm, "write"));
  if (!vm.console_write(data, wait)) {
    throw std::runtime_error(context(vm, "write") + ": timed out: the guest is not reading its console");
  }
  return 0;
}

int console_close(lua_State* L) {
  self_vm(L, "close");
  return 0;
}

int console_tostring(lua_State* L) {
  auto* console = static_cast<std::shared_ptr<GuestConsole>*>(luaL_testudata(L, 1, kConsoleTypeName));
  if (console == nullptr || !*console) lua_pushliteral(L, "console (released)");
  else lua_pushfstring(L, "console of vm `%s`", (*console)->vm->name().c_str());
  return 1;
}

constexpr luaL_Reg kMethods[] = {
    {"read", lua_entry<console_read>},
    {"read_log", lua_entry<console_read_log>},
    {"expect", lua_entry<console_expect>},
    {"write", lua_entry<console_write>},
    {"close", lua_entry<console_close>},
    {nullptr, nullptr},
};

}  // namespace

void register_console_type(lua_State* L) {
  new_shared_type<GuestConsole>(L, kConsoleTypeName, kMethods);
  lua_pushcfunction(L, lua_entry<console_tostring>);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

void push_console(lua_State* L, std::shared_ptr<Vm> vm) {
  push_shared(L, kConsoleTypeName, std::make_shared<GuestConsole>(GuestConsole{std::move(vm)}));
}

}  // namespace provium::runner
