#include "vm_binding.h"

#include "bridge.h"
#include "bridge_binding.h"
#include "lab_binding.h"

#include "batch_binding.h"
#include "clock_binding.h"
#include "command_result_binding.h"
#include "console_binding.h"
#include "file_binding.h"
#include "stream_binding.h"
#include "guest_command_lua.h"
#include "guest_path_lua.h"
#include "layer0_lua.h"
#include "process_binding.h"
#include "snapshot_binding.h"
#include "worker_binding.h"
#include "lua_guard.h"
#include "lua_userdata.h"
#include "lua_values.h"
#include "vm_spec_lua.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace provium::runner {
namespace {

Vm& self_vm(lua_State* L, const char* method) {
  Vm* vm = test_shared<Vm>(L, 1, kVmTypeName);
  if (vm == nullptr) {
    throw std::invalid_argument(std::string("vm:") + method + ": expected a VM as self (call it as vm:" + method +
                                "(...) with `:`)");
  }
  return *vm;
}

std::string context(const Vm& vm, const char* op) { return "vm `" + vm.name() + "`: " + op; }

int vm_boot(lua_State* L) {
  Vm& vm = self_vm(L, "boot");
  vm.boot(read_vm_spec(L, 2, context(vm, "boot")));
  rejoin_bridges(L, vm, "boot");  // bridges it was attached to while created take it in now
  lua_settop(L, 1);
  return 1;
}

int vm_run(lua_State* L) {
  Vm& vm = self_vm(L, "run");
  const GuestCommand command = read_guest_command(L, 2, context(vm, "run"));
  push_command_result(L, CommandReport{vm.run(command), vm.name(), command.display});
  return 1;
}

int vm_read_file(lua_State* L) {
  Vm& vm = self_vm(L, "read_file");
  const std::string data = vm.read_file(read_text(L, 2, context(vm, "read_file") + ": path"));
  lua_pushlstring(L, data.data(), data.size());
  return 1;
}

int vm_write_file(lua_State* L) {
  Vm& vm = self_vm(L, "write_file");
  const std::string path = read_text(L, 2, context(vm, "write_file") + ": path");
  vm.write_file(path, read_string(L, 3, context(vm, "write_file") + ": data"));
  return 0;
}

int vm_stat(lua_State* L) {
  Vm& vm = self_vm(L, "stat");
  push_guest_stat(L, vm.stat(read_text(L, 2, context(vm, "stat") + ": path")));
  return 1;
}

int vm_listdir(lua_State* L) {
  Vm& vm = self_vm(L, "listdir");
  push_dir_entries(L, vm.listdir(read_text(L, 2, context(vm, "listdir") + ": path")));
  return 1;
}

int vm_mkdir(lua_State* L) {
  Vm& vm = self_vm(L, "mkdir");
  const std::string path = read_text(L, 2, context(vm, "mkdir") + ": path");
  const MkdirOptions options = read_mkdir_options(L, 3, context(vm, "mkdir"));
  vm.mkdir(path, options.parents, options.perm);
  return 0;
}

int vm_unlink(lua_State* L) {
  Vm& vm = self_vm(L, "unlink");
  vm.unlink(read_text(L, 2, context(vm, "unlink") + ": path"));
  return 0;
}

int vm_rename(lua_State* L) {
  Vm& vm = self_vm(L, "rename");
  const std::string from = read_text(L, 2, context(vm, "rename") + ": from");
  vm.rename(from, read_text(L, 3, context(vm, "rename") + ": to"));
  return 0;
}

int vm_open_file(lua_State* L) {
  Vm& vm = self_vm(L, "open_file");
  const std::string path = read_text(L, 2, context(vm, "open_file") + ": path");
  const OpenMode mode = read_open_mode(L, 3, context(vm, "open_file") + " `" + path + "`");
  const std::uint64_t handle = vm.open_file(path, mode.bits, mode.perm);
  push_file(L, std::make_shared<FileHandle>(test_shared_owner<Vm>(L, 1, kVmTypeName), path, handle));
  return 1;
}

int vm_open_file_count(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(self_vm(L, "open_file_count").open_file_count()));
  return 1;
}

// {start = "end" | "beginning" | "start" | offset}: negative offsets count
// back from the end of the file, floats are truncated toward zero.
void read_tail_start(lua_State* L, int index, const std::string& context, bool& from_end, std::int64_t& offset) {
  from_end = true;
  offset = 0;
  if (lua_isnoneornil(L, index)) return;
  if (!lua_istable(L, index)) {
    throw std::invalid_argument(context + ": options must be a table, got " + lua_type_name(L, index));
  }
  for_each_field(L, index, context + ": options", [&](const std::string& key) {
    if (key != "start") throw std::invalid_argument(context + ": unknown option `" + key + "` (known: start)");
    if (lua_type(L, -1) == LUA_TSTRING) {
      const std::string start = lua_tostring(L, -1);
      if (start == "end") from_end = true;
      else if (start == "beginning" || start == "start") from_end = false;
      else throw std::invalid_argument(context + ": start must be \"end\", \"beginning\" or an offset, got `" + start + "`");
      return;
    }
    if (lua_isinteger(L, -1)) {
      offset = lua_tointeger(L, -1);
    } else if (lua_type(L, -1) == LUA_TNUMBER && std::isfinite(lua_tonumber(L, -1))) {
      offset = static_cast<std::int64_t>(lua_tonumber(L, -1));
    } else {
      throw std::invalid_argument(context + ": start must be \"end\", \"beginning\" or a finite offset, got " +
                                  lua_type_name(L, -1));
    }
    from_end = offset < 0;
  });
}

int vm_tail_file(lua_State* L) {
  Vm& vm = self_vm(L, "tail_file");
  const std::string path = read_text(L, 2, context(vm, "tail_file") + ": path");
  bool from_end = true;
  std::int64_t offset = 0;
  read_tail_start(L, 3, context(vm, "tail_file"), from_end, offset);
  const StreamOpened opened = vm.tail_file(path, from_end, offset);
  push_stream(L, std::make_shared<GuestStream>(test_shared_owner<Vm>(L, 1, kVmTypeName), opened.key, "tail_file",
                                               "`" + path + "`"));
  return 1;
}

int vm_fd_stream(lua_State* L) {
  Vm& vm = self_vm(L, "fd_stream");
  std::uint64_t handle = 0;
  if (FileHandle* file = test_file(L, 2)) {
    if (file->closed()) throw std::invalid_argument(context(vm, "fd_stream") + ": the file is closed");
    if (file->worker() != 0) {
      throw std::invalid_argument(context(vm, "fd_stream") + ": the file belongs to worker " +
                                  std::to_string(file->worker()) + ", whose descriptors the main agent cannot see");
    }
    handle = file->fd();
  } else {
    const std::int64_t fd = read_integer(L, 2, context(vm, "fd_stream") + ": fd (an integer or a File)");
    if (fd < 0) throw std::invalid_argument(context(vm, "fd_stream") + ": fd must not be negative");
    handle = static_cast<std::uint64_t>(fd);
  }
  const StreamOpened opened = vm.fd_stream(handle);
  push_stream(L, std::make_shared<GuestStream>(test_shared_owner<Vm>(L, 1, kVmTypeName), opened.key, "fd_stream",
                                               "fd " + std::to_string(handle)));
  return 1;
}

int vm_open_stream_count(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(self_vm(L, "open_stream_count").open_stream_count()));
  return 1;
}

int vm_is_quiescent(lua_State* L) {
  lua_pushboolean(L, self_vm(L, "is_quiescent").is_quiescent());
  return 1;
}

int vm_syscall(lua_State* L) {
  Vm& vm = self_vm(L, "syscall");
  push_layer0_result(L, vm.syscall(read_syscall_call(L, 2, context(vm, "syscall"))));
  return 1;
}

int vm_ioctl(lua_State* L) {
  Vm& vm = self_vm(L, "ioctl");
  // A File is accepted where the doc says fd, like vm:fd_stream.
  if (FileHandle* file = test_file(L, 2)) {
    if (file->worker() != 0) {
      throw std::invalid_argument(context(vm, "ioctl") + ": the file belongs to worker " +
                                  std::to_string(file->worker()) + ", whose descriptors the main agent cannot see");
    }
    lua_pushinteger(L, static_cast<lua_Integer>(file->fd()));
    lua_replace(L, 2);
  }
  push_layer0_result(L, vm.ioctl(read_ioctl_call(L, 2, context(vm, "ioctl"))));
  return 1;
}

int vm_clock(lua_State* L) {
  self_vm(L, "clock");
  push_clock(L, test_shared_owner<Vm>(L, 1, kVmTypeName));
  return 1;
}

// Lifecycle verbs, the console and push_file (one block, see kMethods).
int vm_pause(lua_State* L) {
  self_vm(L, "pause").pause();
  return 0;
}

int vm_resume(lua_State* L) {
  self_vm(L, "resume").resume();
  return 0;
}

int vm_reset(lua_State* L) {
  self_vm(L, "reset").reset();
  return 0;
}

int vm_power_button(lua_State* L) {
  self_vm(L, "power_button").power_button();
  return 0;
}

int vm_console(lua_State* L) {
  self_vm(L, "console");
  push_console(L, test_shared_owner<Vm>(L, 1, kVmTypeName));
  return 1;
}

// The chunk that called into us ("@tests/x.test.lua" -> "tests/x.test.lua"),
// which relative host paths are anchored to; empty when not a file.
std::string calling_chunk(lua_State* L) {
  lua_Debug frame{};
  if (lua_getstack(L, 1, &frame) == 0 || lua_getinfo(L, "S", &frame) == 0 || frame.source == nullptr) return {};
  return frame.source[0] == '@' ? std::string(frame.source + 1) : std::string();
}

int vm_push_file(lua_State* L) {
  Vm& vm = self_vm(L, "push_file");
  const std::string host_path = read_text(L, 2, context(vm, "push_file") + ": host_path");
  const std::string guest_path = read_text(L, 3, context(vm, "push_file") + ": guest_path");
  if (!lua_isnoneornil(L, 4)) {
    if (!lua_istable(L, 4)) {
      throw std::invalid_argument(context(vm, "push_file") + ": options must be a table, got " +
                                  lua_type_name(L, 4));
    }
    for_each_field(L, 4, context(vm, "push_file") + ": options", [&](const std::string& key) {
      // auto_dep steers fixture cache keys; accepted (there are no fixtures yet).
      if (key != "auto_dep") {
        throw std::invalid_argument(context(vm, "push_file") + ": unknown option `" + key + "` (known: auto_dep)");
      }
      if (!lua_isboolean(L, -1)) {
        throw std::invalid_argument(context(vm, "push_file") + ": auto_dep must be a boolean, got " +
                                    lua_type_name(L, -1));
      }
    });
  }
  vm.push_file(host_path, guest_path, calling_chunk(L));
  return 0;
}

int vm_shutdown(lua_State* L) {
  self_vm(L, "shutdown").shutdown();
  return 0;
}

int vm_close(lua_State* L) {
  self_vm(L, "close").shutdown();
  return 0;
}

int vm_state(lua_State* L) {
  lua_pushstring(L, to_string(self_vm(L, "state").state()));
  return 1;
}

int vm_name(lua_State* L) {
  lua_pushstring(L, self_vm(L, "name").name().c_str());
  return 1;
}

int vm_profile(lua_State* L) {
  lua_pushstring(L, self_vm(L, "profile").profile().c_str());
  return 1;
}

int vm_cid(lua_State* L) {
  const auto cid = self_vm(L, "cid").cid();
  if (cid) lua_pushinteger(L, *cid);
  else lua_pushnil(L);
  return 1;
}

int vm_tostring(lua_State* L) {
  Vm* vm = test_shared<Vm>(L, 1, kVmTypeName);
  if (vm == nullptr) lua_pushliteral(L, "vm (released)");
  else lua_pushfstring(L, "vm `%s` (%s)", vm->name().c_str(), to_string(vm->state()));
  return 1;
}

int vm_equal(lua_State* L) {
  Vm* a = test_shared<Vm>(L, 1, kVmTypeName);
  Vm* b = test_shared<Vm>(L, 2, kVmTypeName);
  lua_pushboolean(L, a != nullptr && a == b);
  return 1;
}

constexpr luaL_Reg kMethods[] = {
    {"boot", lua_entry<vm_boot>},
    {"run", lua_entry<vm_run>},
    {"read_file", lua_entry<vm_read_file>},
    {"write_file", lua_entry<vm_write_file>},
    {"stat", lua_entry<vm_stat>},
    {"listdir", lua_entry<vm_listdir>},
    {"mkdir", lua_entry<vm_mkdir>},
    {"unlink", lua_entry<vm_unlink>},
    {"rename", lua_entry<vm_rename>},
    {"open_file", lua_entry<vm_open_file>},
    {"open_file_count", lua_entry<vm_open_file_count>},
    {"tail_file", lua_entry<vm_tail_file>},
    {"fd_stream", lua_entry<vm_fd_stream>},
    {"open_stream_count", lua_entry<vm_open_stream_count>},
    {"is_quiescent", lua_entry<vm_is_quiescent>},
    {"clock", lua_entry<vm_clock>},
    {"syscall", lua_entry<vm_syscall>},
    {"ioctl", lua_entry<vm_ioctl>},
    // Lifecycle verbs, the console and push_file.
    {"pause", lua_entry<vm_pause>},
    {"resume", lua_entry<vm_resume>},
    {"reset", lua_entry<vm_reset>},
    {"power_button", lua_entry<vm_power_button>},
    {"snapshot", lua_entry<vm_snapshot>},  // snapshot_binding.cpp
    {"restore", lua_entry<vm_restore>},
    {"console", lua_entry<vm_console>},
    {"push_file", lua_entry<vm_push_file>},
    {"shutdown", lua_entry<vm_shutdown>},
    {"close", lua_entry<vm_close>},
    {"state", lua_entry<vm_state>},
    {"name", lua_entry<vm_name>},
    {"profile", lua_entry<vm_profile>},
    {"cid", lua_entry<vm_cid>},
    {"nic", lua_entry<vm_nic>},  // bridge_binding.cpp
    // Processes, workers, batches (process_binding.cpp, worker_binding.cpp, batch_binding.cpp).
    {"run_async", lua_entry<vm_run_async>},
    {"spawn_worker", lua_entry<vm_spawn_worker>},
    {"batch", lua_entry<vm_batch>},
    {nullptr, nullptr},
};

}  // namespace

void register_vm_type(lua_State* L) {
  new_shared_type<Vm>(L, kVmTypeName, kMethods);
  lua_pushcfunction(L, lua_entry<vm_tostring>);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, lua_entry<vm_equal>);
  lua_setfield(L, -2, "__eq");
  lua_pop(L, 1);
}

void push_vm(lua_State* L, std::shared_ptr<Vm> vm) { push_shared(L, kVmTypeName, std::move(vm)); }

}  // namespace provium::runner
