#include "worker_binding.h"

#include "guest_stream.h"
#include "lua_call_site.h"

#include "command_result_binding.h"
#include "file_binding.h"
#include "guest_command_lua.h"
#include "guest_path_lua.h"
#include "lab_binding.h"
#include "layer0_lua.h"
#include "lua_guard.h"
#include "lua_userdata.h"
#include "lua_values.h"
#include "process_binding.h"
#include "signal_names.h"
#include "vm_binding.h"

#include <limits>
#include <stdexcept>

namespace provium::runner {
namespace {

// Credentials are guest ids; (uid_t)-1 means "unchanged" to the kernel.
constexpr std::int64_t kMaxId = std::numeric_limits<std::uint32_t>::max() - 1;

std::shared_ptr<GuestWorker> self_worker(lua_State* L, const char* method) {
  auto worker = test_shared_owner<GuestWorker>(L, 1, kWorkerTypeName);
  if (!worker) {
    throw std::invalid_argument(std::string("worker:") + method + ": expected a Worker as self (call it as worker:" +
                                method + "(...) with `:`)");
  }
  return worker;
}

// A worker that is open, for an op that needs it.
GuestWorker& open_worker(lua_State* L, const char* method) {
  GuestWorker& worker = *self_worker(L, method);
  worker.require_open(method);
  return worker;
}

std::string context(const GuestWorker& worker, const char* method) {
  return "vm `" + worker.vm().name() + "`: " + worker.op(method);
}

// Runs `call` through the worker; errors read "vm `a`: worker:<method> (worker N) `<subject>`: ...".
template <typename Call>
void through(GuestWorker& worker, const char* method, const std::string& subject, Call&& call) {
  std::string op = worker.op(method);
  if (!subject.empty()) op += " `" + subject + "`";
  worker.vm().with_agent(op, [&](AgentClient& agent, Deadline deadline) { call(agent, deadline, worker.id()); });
}

int worker_run(lua_State* L) {
  GuestWorker& worker = open_worker(L, "run");
  const GuestCommand command = read_guest_command(L, 2, context(worker, "run"));
  CommandResult result;
  through(worker, "run", "", [&](AgentClient& agent, Deadline deadline, std::uint32_t id) {
    result = agent.run(command, deadline, id);
  });
  push_command_result(L, CommandReport{std::move(result), worker.vm().name(), command.display});
  return 1;
}

int worker_run_async(lua_State* L) {
  auto worker = self_worker(L, "run_async");
  worker->require_open("run_async");
  push_new_process(L, 2, worker->vm_owner(), worker, context(*worker, "run_async"));
  return 1;
}

int worker_open_file(lua_State* L) {
  auto worker = self_worker(L, "open_file");
  worker->require_open("open_file");
  const std::string path = read_text(L, 2, context(*worker, "open_file") + ": path");
  const OpenMode mode = read_open_mode(L, 3, context(*worker, "open_file") + " `" + path + "`");
  const std::uint64_t handle = worker->vm().open_file(path, mode.bits, mode.perm, worker->id());
  auto file = std::make_shared<FileHandle>(worker->vm_owner(), path, handle, worker->id());
  worker->track(file);
  push_file(L, std::move(file));
  return 1;
}

int worker_read_file(lua_State* L) {
  GuestWorker& worker = open_worker(L, "read_file");
  const std::string path = read_text(L, 2, context(worker, "read_file") + ": path");
  std::string data;
  through(worker, "read_file", path, [&](AgentClient& agent, Deadline deadline, std::uint32_t id) {
    data = agent.read_file_streamed(path, deadline, id);
  });
  lua_pushlstring(L, data.data(), data.size());
  return 1;
}

int worker_write_file(lua_State* L) {
  GuestWorker& worker = open_worker(L, "write_file");
  const std::string path = read_text(L, 2, context(worker, "write_file") + ": path");
  const std::string data = read_string(L, 3, context(worker, "write_file") + ": data");
  through(worker, "write_file", path, [&](AgentClient& agent, Deadline deadline, std::uint32_t id) {
    agent.write_file(path, data, 0644, deadline, id);
  });
  return 0;
}

int worker_stat(lua_State* L) {
  GuestWorker& worker = open_worker(L, "stat");
  const std::string path = read_text(L, 2, context(worker, "stat") + ": path");
  GuestStat stat;
  through(worker, "stat", path,
          [&](AgentClient& agent, Deadline deadline, std::uint32_t id) { stat = agent.stat(path, deadline, id); });
  push_guest_stat(L, stat);
  return 1;
}

int worker_listdir(lua_State* L) {
  GuestWorker& worker = open_worker(L, "listdir");
  const std::string path = read_text(L, 2, context(worker, "listdir") + ": path");
  std::vector<GuestDirEntry> entries;
  through(worker, "listdir", path, [&](AgentClient& agent, Deadline deadline, std::uint32_t id) {
    entries = agent.listdir(path, deadline, id);
  });
  push_dir_entries(L, entries);
  return 1;
}

int worker_mkdir(lua_State* L) {
  GuestWorker& worker = open_worker(L, "mkdir");
  const std::string path = read_text(L, 2, context(worker, "mkdir") + ": path");
  const MkdirOptions options = read_mkdir_options(L, 3, context(worker, "mkdir"));
  through(worker, "mkdir", path, [&](AgentClient& agent, Deadline deadline, std::uint32_t id) {
    agent.mkdir(path, options.parents, options.perm, deadline, id);
  });
  return 0;
}

int worker_unlink(lua_State* L) {
  GuestWorker& worker = open_worker(L, "unlink");
  const std::string path = read_text(L, 2, context(worker, "unlink") + ": path");
  through(worker, "unlink", path,
          [&](AgentClient& agent, Deadline deadline, std::uint32_t id) { agent.unlink(path, deadline, id); });
  return 0;
}

int worker_rename(lua_State* L) {
  GuestWorker& worker = open_worker(L, "rename");
  const std::string from = read_text(L, 2, context(worker, "rename") + ": from");
  const std::string to = read_text(L, 3, context(worker, "rename") + ": to");
  through(worker, "rename", from, [&](AgentClient& agent, Deadline deadline, std::uint32_t id) {
    agent.rename(from, to, deadline, id);
  });
  return 0;
}

int worker_syscall(lua_State* L) {
  GuestWorker& worker = open_worker(L, "syscall");
  const SyscallCall call = read_syscall_call(L, 2, context(worker, "syscall"));
  Layer0Result result;
  through(worker, "syscall", std::to_string(call.nr), [&](AgentClient& agent, Deadline deadline, std::uint32_t id) {
    result = agent.syscall(call, deadline, id);
  });
  push_layer0_result(L, result);
  return 1;
}

int worker_kill(lua_State* L) {
  GuestWorker& worker = *self_worker(L, "kill");
  worker.kill(read_signal(L, 2, context(worker, "kill")));
  return 0;
}

int worker_join(lua_State* L) {
  GuestWorker& worker = *self_worker(L, "join");
  const auto results = worker.join();
  lua_createtable(L, static_cast<int>(results.size()), 0);
  lua_Integer position = 0;
  for (const CommandResult& result : results) {
    push_command_result(L, CommandReport{result, worker.vm().name(), "(worker " + std::to_string(worker.id()) +
                                                                         " process)"});
    lua_rawseti(L, -2, ++position);
  }
  return 1;
}

int worker_handle(lua_State* L) {
  lua_pushinteger(L, self_worker(L, "handle")->id());
  return 1;
}

int worker_pid(lua_State* L) {
  lua_pushinteger(L, self_worker(L, "pid")->pid());
  return 1;
}

int worker_close(lua_State* L) {
  self_worker(L, "close")->close();
  return 0;
}

int worker_tostring(lua_State* L) {
  GuestWorker* worker = test_shared<GuestWorker>(L, 1, kWorkerTypeName);
  if (worker == nullptr) lua_pushliteral(L, "worker (released)");
  else lua_pushfstring(L, "worker %d of vm `%s` (%s)", static_cast<int>(worker->id()), worker->vm().name().c_str(),
                       worker->closed() ? "closed" : "open");
  return 1;
}

constexpr luaL_Reg kMethods[] = {
    {"run", lua_entry<worker_run>},
    {"run_async", lua_entry<worker_run_async>},
    {"open_file", lua_entry<worker_open_file>},
    {"read_file", lua_entry<worker_read_file>},
    {"write_file", lua_entry<worker_write_file>},
    {"stat", lua_entry<worker_stat>},
    {"listdir", lua_entry<worker_listdir>},
    {"mkdir", lua_entry<worker_mkdir>},
    {"unlink", lua_entry<worker_unlink>},
    {"rename", lua_entry<worker_rename>},
    {"syscall", lua_entry<worker_syscall>},
    {"kill", lua_entry<worker_kill>},
    {"join", lua_entry<worker_join>},
    {"handle", lua_entry<worker_handle>},
    {"pid", lua_entry<worker_pid>},
    {"close", lua_entry<worker_close>},
    {nullptr, nullptr},
};

std::uint32_t read_id(lua_State* L, const std::string& what) {
  const std::int64_t id = read_integer(L, -1, what);
  if (id < 0 || id > kMaxId) {
    throw std::invalid_argument(what + " must be in 0.." + std::to_string(kMaxId) + ", got " + std::to_string(id));
  }
  return static_cast<std::uint32_t>(id);
}

// {thread = false, uid = 0, gid = 0, groups = {...}}: all optional.
WorkerCredentials read_worker_options(lua_State* L, int index, const std::string& context) {
  WorkerCredentials credentials;
  if (lua_isnoneornil(L, index)) return credentials;
  if (!lua_istable(L, index)) {
    throw std::invalid_argument(context + ": options must be a table, got " + lua_type_name(L, index));
  }
  for_each_field(L, index, context + ": options", [&](const std::string& key) {
    const std::string what = context + ": " + key;
    if (key == "thread") {
      if (!lua_isboolean(L, -1)) throw std::invalid_argument(what + " must be a boolean");
      if (lua_toboolean(L, -1)) {
        throw std::invalid_argument(context +
                                    ": {thread = true} is not supported (future work): a worker is a separate "
                                    "guest process; omit `thread` or pass {thread = false}");
      }
    } else if (key == "uid") {
      credentials.uid = read_id(L, what);
    } else if (key == "gid") {
      credentials.gid = read_id(L, what);
    } else if (key == "groups") {
      const int count = lua_istable(L, -1) ? sequence_length(L, -1) : -1;
      if (count < 0) throw std::invalid_argument(what + " must be an array of group ids");
      for (int i = 1; i <= count; ++i) {
        lua_rawgeti(L, -1, i);
        credentials.groups.push_back(read_id(L, what + "[" + std::to_string(i) + "]"));
        lua_pop(L, 1);
      }
    } else {
      throw std::invalid_argument(context + ": unknown option `" + key + "` (known: thread, uid, gid, groups)");
    }
  });
  return credentials;
}

}  // namespace

void register_worker_type(lua_State* L) {
  new_shared_type<GuestWorker>(L, kWorkerTypeName, kMethods);
  lua_pushcfunction(L, lua_entry<worker_tostring>);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

int vm_spawn_worker(lua_State* L) {
  auto vm = test_shared_owner<Vm>(L, 1, kVmTypeName);
  if (!vm) {
    throw std::invalid_argument("vm:spawn_worker: expected a VM as self (call it as vm:spawn_worker(...) with `:`)");
  }
  const WorkerCredentials credentials = read_worker_options(L, 2, "vm `" + vm->name() + "`: spawn_worker");
  StartedWorker started;
  vm->with_agent("spawn_worker", [&](AgentClient& agent, Deadline deadline) {
    started = agent.spawn_worker(credentials, deadline);
  });
  auto worker = std::make_shared<GuestWorker>(vm, started);
  adopt_into_scope(L, ResourceKind::worker, worker);
  vm->note_open([weak = std::weak_ptr<GuestWorker>(worker), site = test_code_call_site(L)]()
                    -> std::optional<std::string> {
    auto open = weak.lock();
    if (!open || open->closed()) return std::nullopt;
    return describe_opened("worker", site);
  });
  push_shared(L, kWorkerTypeName, std::move(worker));
  return 1;
}

}  // namespace provium::runner
