#include "batch_binding.h"

#include "agent_client.h"
#include "command_result_binding.h"
#include "guest_command_lua.h"
#include "guest_path_lua.h"
#include "layer0_lua.h"
#include "lua_guard.h"
#include "lua_userdata.h"
#include "lua_values.h"
#include "vm_binding.h"

#include <stdexcept>
#include <type_traits>

namespace provium::runner {
namespace {

// The ops fn(b) recorded; sealed once fn returns, so a `b` kept past its
// batch cannot add ops nobody will send.
struct BatchCollector {
  std::string vm_name;
  std::vector<BatchOp> ops;
  std::vector<std::string> displays;  // the command of each run, for RunResult:assert_ok
  bool sealed = false;
};

BatchCollector& self_batch(lua_State* L, const char* method) {
  BatchCollector* batch = test_shared<BatchCollector>(L, 1, kBatchTypeName);
  if (batch == nullptr) {
    throw std::invalid_argument(std::string("b:") + method + ": expected the batch as self (call it as b:" + method +
                                "(...) with `:`)");
  }
  if (batch->sealed) {
    throw std::runtime_error("vm `" + batch->vm_name + "`: batch: b:" + method +
                             ": this batch was sent already; record ops inside the function given to vm:batch");
  }
  return *batch;
}

std::string context(const BatchCollector& batch, const char* method) {
  return "vm `" + batch.vm_name + "`: batch: b:" + method;
}

void add(BatchCollector& batch, BatchOp op, std::string display = {}) {
  if (batch.ops.size() >= kMaxBatchOps) {
    throw std::invalid_argument("vm `" + batch.vm_name + "`: batch: at most " + std::to_string(kMaxBatchOps) +
                                " ops fit in one batch; split it");
  }
  batch.ops.push_back(std::move(op));
  batch.displays.push_back(std::move(display));
}

int batch_run(lua_State* L) {
  BatchCollector& batch = self_batch(L, "run");
  GuestCommand command = read_guest_command(L, 2, context(batch, "run"));
  std::string display = command.display;
  add(batch, BatchRun{std::move(command)}, std::move(display));
  return 0;
}

int batch_read_file(lua_State* L) {
  BatchCollector& batch = self_batch(L, "read_file");
  add(batch, BatchReadFile{read_text(L, 2, context(batch, "read_file") + ": path")});
  return 0;
}

int batch_write_file(lua_State* L) {
  BatchCollector& batch = self_batch(L, "write_file");
  std::string path = read_text(L, 2, context(batch, "write_file") + ": path");
  add(batch, BatchWriteFile{std::move(path), read_string(L, 3, context(batch, "write_file") + ": data")});
  return 0;
}

int batch_stat(lua_State* L) {
  BatchCollector& batch = self_batch(L, "stat");
  add(batch, BatchStat{read_text(L, 2, context(batch, "stat") + ": path")});
  return 0;
}

int batch_listdir(lua_State* L) {
  BatchCollector& batch = self_batch(L, "listdir");
  add(batch, BatchListdir{read_text(L, 2, context(batch, "listdir") + ": path")});
  return 0;
}

int batch_mkdir(lua_State* L) {
  BatchCollector& batch = self_batch(L, "mkdir");
  std::string path = read_text(L, 2, context(batch, "mkdir") + ": path");
  const MkdirOptions options = read_mkdir_options(L, 3, context(batch, "mkdir"));
  add(batch, BatchMkdir{std::move(path), options.parents, options.perm});
  return 0;
}

int batch_unlink(lua_State* L) {
  BatchCollector& batch = self_batch(L, "unlink");
  add(batch, BatchUnlink{read_text(L, 2, context(batch, "unlink") + ": path")});
  return 0;
}

int batch_rename(lua_State* L) {
  BatchCollector& batch = self_batch(L, "rename");
  std::string from = read_text(L, 2, context(batch, "rename") + ": from");
  add(batch, BatchRename{std::move(from), read_text(L, 3, context(batch, "rename") + ": to")});
  return 0;
}

int batch_syscall(lua_State* L) {
  BatchCollector& batch = self_batch(L, "syscall");
  if (lua_istable(L, 3)) {
    throw std::invalid_argument(context(batch, "syscall") +
                                ": the table form ({args=, bufs=, ptrs=}) is not taken in a batch; pass integer "
                                "arguments, or call vm:syscall outside the batch");
  }
  add(batch, BatchSyscall{read_syscall_call(L, 2, context(batch, "syscall"))});
  return 0;
}

int batch_tostring(lua_State* L) {
  BatchCollector* batch = test_shared<BatchCollector>(L, 1, kBatchTypeName);
  if (batch == nullptr) lua_pushliteral(L, "batch (released)");
  else lua_pushfstring(L, "batch of vm `%s` (%d ops%s)", batch->vm_name.c_str(), static_cast<int>(batch->ops.size()),
                       batch->sealed ? ", sent" : "");
  return 1;
}

constexpr luaL_Reg kMethods[] = {
    {"run", lua_entry<batch_run>},
    {"read_file", lua_entry<batch_read_file>},
    {"write_file", lua_entry<batch_write_file>},
    {"stat", lua_entry<batch_stat>},
    {"listdir", lua_entry<batch_listdir>},
    {"mkdir", lua_entry<batch_mkdir>},
    {"unlink", lua_entry<batch_unlink>},
    {"rename", lua_entry<batch_rename>},
    {"syscall", lua_entry<batch_syscall>},
    {nullptr, nullptr},
};

void push_value(lua_State* L, const BatchValue& value, const std::string& vm_name, const std::string& display) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) lua_pushnil(L);
        else if constexpr (std::is_same_v<T, std::string>) lua_pushlstring(L, v.data(), v.size());
        else if constexpr (std::is_same_v<T, CommandResult>) push_command_result(L, CommandReport{v, vm_name, display});
        else if constexpr (std::is_same_v<T, GuestStat>) push_guest_stat(L, v);
        else if constexpr (std::is_same_v<T, std::vector<GuestDirEntry>>) push_dir_entries(L, v);
        else push_layer0_result(L, v);
      },
      value);
}

}  // namespace

void register_batch_type(lua_State* L) {
  new_shared_type<BatchCollector>(L, kBatchTypeName, kMethods);
  lua_pushcfunction(L, lua_entry<batch_tostring>);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

int vm_batch(lua_State* L) {
  Vm* vm = test_shared<Vm>(L, 1, kVmTypeName);
  if (vm == nullptr) throw std::invalid_argument("vm:batch: expected a VM as self (call it as vm:batch(fn) with `:`)");
  if (lua_type(L, 2) != LUA_TFUNCTION) {
    throw std::invalid_argument("vm `" + vm->name() + "`: batch: expected a function that records ops, got " +
                                lua_type_name(L, 2));
  }
  auto batch = std::make_shared<BatchCollector>();
  batch->vm_name = vm->name();
  struct Seal {
    BatchCollector& batch;
    ~Seal() { batch.sealed = true; }
  } seal{*batch};
  lua_pushvalue(L, 2);
  push_shared(L, kBatchTypeName, batch);
  lua_call(L, 1, 0);  // an error in fn propagates; nothing is sent
  batch->sealed = true;

  std::vector<BatchOutcome> outcomes;
  if (!batch->ops.empty()) {
    vm->with_agent("batch", [&](AgentClient& agent, Deadline deadline) { outcomes = agent.batch(batch->ops, deadline); });
  }
  lua_createtable(L, static_cast<int>(outcomes.size()), 0);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    lua_createtable(L, 0, 1);
    if (outcomes[i].ok) {
      push_value(L, outcomes[i].value, vm->name(), batch->displays[i]);
      lua_setfield(L, -2, "ok");
    } else {
      lua_pushlstring(L, outcomes[i].error.data(), outcomes[i].error.size());
      lua_setfield(L, -2, "err");
    }
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  return 1;
}

}  // namespace provium::runner
