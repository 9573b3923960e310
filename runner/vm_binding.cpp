#include "vm_binding.h"

#include "command_result_binding.h"
#include "guest_command_lua.h"
#include "lua_guard.h"
#include "lua_userdata.h"
#include "lua_values.h"
#include "vm_spec_lua.h"

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
    {"shutdown", lua_entry<vm_shutdown>},
    {"close", lua_entry<vm_close>},
    {"state", lua_entry<vm_state>},
    {"name", lua_entry<vm_name>},
    {"profile", lua_entry<vm_profile>},
    {"cid", lua_entry<vm_cid>},
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
