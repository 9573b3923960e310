#include "process_binding.h"

#include "guest_stream.h"
#include "lua_call_site.h"

#include "command_result_binding.h"
#include "guest_command_lua.h"
#include "guest_worker.h"
#include "lab_binding.h"
#include "lua_guard.h"
#include "lua_userdata.h"
#include "lua_values.h"
#include "signal_names.h"
#include "stream_binding.h"
#include "vm_binding.h"

#include <stdexcept>

namespace provium::runner {
namespace {

GuestProcess& self_process(lua_State* L, const char* method) {
  GuestProcess* process = test_shared<GuestProcess>(L, 1, kProcessTypeName);
  if (process == nullptr) {
    throw std::invalid_argument(std::string("proc:") + method + ": expected a Process as self (call it as proc:" +
                                method + "(...) with `:`)");
  }
  return *process;
}

std::string context(const GuestProcess& process, const char* method) {
  return "vm `" + process.vm().name() + "`: proc:" + method + " (pid " + std::to_string(process.pid()) + ")";
}

void push_result(lua_State* L, const GuestProcess& process, CommandResult result) {
  push_command_result(L, CommandReport{std::move(result), process.vm().name(), process.display()});
}

int proc_wait(lua_State* L) {
  GuestProcess& process = self_process(L, "wait");
  std::optional<Millis> timeout;
  if (!lua_isnoneornil(L, 2)) {
    timeout = read_duration(L, 2, context(process, "wait") + ": timeout");
    if (timeout->count() == 0) {
      throw std::invalid_argument(context(process, "wait") +
                                  ": a zero timeout would kill the process at once; to check whether it is still "
                                  "running without waiting, use proc:status()");
    }
  }
  push_result(L, process, process.wait(timeout));
  return 1;
}

int proc_kill(lua_State* L) {
  GuestProcess& process = self_process(L, "kill");
  process.signal(read_signal(L, 2, context(process, "kill")), "kill");
  return 0;
}

int proc_signal(lua_State* L) {
  GuestProcess& process = self_process(L, "signal");
  if (lua_isnoneornil(L, 2)) {
    throw std::invalid_argument(context(process, "signal") + ": which signal? e.g. proc:signal(\"usr1\")");
  }
  process.signal(read_signal(L, 2, context(process, "signal")), "signal");
  return 0;
}

int proc_pid(lua_State* L) {
  lua_pushinteger(L, self_process(L, "pid").pid());
  return 1;
}

int proc_handle(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(self_process(L, "handle").handle()));
  return 1;
}

int proc_status(lua_State* L) {
  lua_pushstring(L, self_process(L, "status").status().c_str());
  return 1;
}

int proc_stdin_write(lua_State* L) {
  GuestProcess& process = self_process(L, "stdin_write");
  const std::string data = read_string(L, 2, context(process, "stdin_write") + ": data");
  lua_pushinteger(L, static_cast<lua_Integer>(process.stdin_write(data)));
  return 1;
}

int proc_close_stdin(lua_State* L) {
  self_process(L, "close_stdin").close_stdin();
  return 0;
}

int proc_stdout_stream(lua_State* L) {
  push_stream(L, self_process(L, "stdout_stream").output_stream(false));
  return 1;
}

int proc_stderr_stream(lua_State* L) {
  push_stream(L, self_process(L, "stderr_stream").output_stream(true));
  return 1;
}

int proc_close(lua_State* L) {
  self_process(L, "close").close();
  return 0;
}

int proc_tostring(lua_State* L) {
  GuestProcess* process = test_shared<GuestProcess>(L, 1, kProcessTypeName);
  if (process == nullptr) lua_pushliteral(L, "process (released)");
  else lua_pushfstring(L, "process pid %d `%s`", static_cast<int>(process->pid()), process->display().c_str());
  return 1;
}

constexpr luaL_Reg kMethods[] = {
    {"wait", lua_entry<proc_wait>},
    {"kill", lua_entry<proc_kill>},
    {"signal", lua_entry<proc_signal>},
    {"pid", lua_entry<proc_pid>},
    {"handle", lua_entry<proc_handle>},
    {"status", lua_entry<proc_status>},
    {"stdin_write", lua_entry<proc_stdin_write>},
    {"close_stdin", lua_entry<proc_close_stdin>},
    {"stdout_stream", lua_entry<proc_stdout_stream>},
    {"stderr_stream", lua_entry<proc_stderr_stream>},
    {"close", lua_entry<proc_close>},
    {nullptr, nullptr},
};

}  // namespace

void register_process_type(lua_State* L) {
  new_shared_type<GuestProcess>(L, kProcessTypeName, kMethods);
  lua_pushcfunction(L, lua_entry<proc_tostring>);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

void push_new_process(lua_State* L, int index, const std::shared_ptr<Vm>& vm,
                      const std::shared_ptr<GuestWorker>& worker, const std::string& context) {
  const GuestCommand command = read_guest_command(L, index, context);
  if (command.timeout) {
    throw std::invalid_argument(context +
                                ": the timeout option is not taken here; give the timeout to proc:wait(timeout)");
  }
  SpawnedProcess spawned;
  const std::uint32_t worker_id = worker ? worker->id() : 0;
  vm->with_agent(worker ? worker->op("run_async") : "run_async", [&](AgentClient& agent, Deadline deadline) {
    spawned = agent.spawn(command, deadline, worker_id);
  });
  auto process = std::make_shared<GuestProcess>(vm, worker, spawned, command.display);
  if (worker) worker->track(process);
  adopt_into_scope(L, ResourceKind::process, process);
  vm->note_open([weak = std::weak_ptr<GuestProcess>(process), site = test_code_call_site(L)]()
                    -> std::optional<std::string> {
    auto open = weak.lock();
    if (!open || open->finished()) return std::nullopt;
    return describe_opened("process `" + open->display() + "`", site);
  });
  push_shared(L, kProcessTypeName, std::move(process));
}

int vm_run_async(lua_State* L) {
  auto vm = test_shared_owner<Vm>(L, 1, kVmTypeName);
  if (!vm) throw std::invalid_argument("vm:run_async: expected a VM as self (call it as vm:run_async(...) with `:`)");
  push_new_process(L, 2, vm, nullptr, "vm `" + vm->name() + "`: run_async");
  return 1;
}

}  // namespace provium::runner
