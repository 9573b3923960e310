#include "lab_binding.h"

#include "bridge_binding.h"

#include "lua_guard.h"
#include "lua_values.h"
#include "vm_binding.h"
#include "vm_spec_lua.h"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

namespace provium::runner {
namespace {

constexpr const char* kLabTypeName = "provium.Lab";
constexpr const char* kLabRegistryKey = "provium.lab";
constexpr int kTimeoutSlot = 1;
constexpr int kResetSlot = 2;

// Documented Lab methods this runner does not have yet: calling one says so
// instead of "attempt to call a nil value".
constexpr std::array<std::string_view, 12> kNotYetSupported = {
    "lab", "lab_fixture", "claim", "boot", "shutdown",
    "snapshot", "restore", "barrier", "include", "remove", "vm_names", "bridge_names"};

bool is_reserved(std::string_view name) {
  return name == "vm" || name == "bridge" || name == "vm_fixture" || name == "pack" || name == "unpack" || name == "timeout" ||
         name == "reset_between_tests" ||
         std::find(kNotYetSupported.begin(), kNotYetSupported.end(), name) != kNotYetSupported.end();
}

Lab& lab_of(lua_State* L) { return *static_cast<Lab*>(lua_touserdata(L, lua_upvalueindex(1))); }

void require_self(lua_State* L, const char* method) {
  if (luaL_testudata(L, 1, kLabTypeName) == nullptr) {
    throw std::invalid_argument(std::string("provium:") + method + ": call it as provium:" + method +
                                "(...) with `:`");
  }
}

int lab_vm(lua_State* L) {
  require_self(L, "vm");
  Lab& lab = lab_of(L);
  const std::string name = read_text(L, 2, "provium:vm: name");
  if (lua_isnoneornil(L, 3) && lua_isnoneornil(L, 4)) {
    auto vm = lab.find_vm(name);
    if (!vm) throw std::runtime_error("provium:vm: no VM named `" + name + "` in scope");
    push_vm(L, std::move(vm));
    return 1;
  }
  if (name.empty()) throw std::invalid_argument("provium:vm: name must not be empty");
  if (is_reserved(name)) {
    throw std::invalid_argument("provium:vm: `" + name + "` is a reserved name on provium; pick another");
  }
  const std::string profile = read_text(L, 3, "provium:vm: `" + name + "`: profile");
  const VmSpec spec = read_vm_spec(L, 4, "provium:vm: `" + name + "`");
  push_vm(L, lab.create_vm(name, profile, spec));
  return 1;
}

// provium:vm_fixture(name) and provium.vm_fixture(name) alike.
int lab_vm_fixture(lua_State* L) {
  const int name_at = luaL_testudata(L, 1, kLabTypeName) != nullptr ? 2 : 1;
  const std::string name = read_text(L, name_at, "provium:vm_fixture: fixture name");
  push_vm(L, lab_of(L).vm_fixture(name));
  return 1;
}

// provium.pack(fmt, ...) and provium:pack(fmt, ...) alike: drop a leading
// self, then call the string library function in upvalue 1.
int pass_through(lua_State* L) {
  if (luaL_testudata(L, 1, kLabTypeName) != nullptr) lua_remove(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

int not_supported(lua_State* L) {
  return luaL_error(L, "provium:%s is not supported yet", lua_tostring(L, lua_upvalueindex(1)));
}

// __index: reserved keys come from the table in upvalue 2; anything else is
// a VM lookup.
int lab_index(lua_State* L) {
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  const std::string key = lua_tostring(L, 2);
  if (key == "timeout") {
    lua_getiuservalue(L, 1, kTimeoutSlot);
    return 1;
  }
  if (key == "reset_between_tests") {
    lua_getiuservalue(L, 1, kResetSlot);
    lua_pushboolean(L, lua_toboolean(L, -1));
    return 1;
  }
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  if (auto vm = lab_of(L).find_vm(key)) {
    push_vm(L, std::move(vm));
    return 1;
  }
  if (auto bridge = lab_of(L).find_bridge(key)) {
    push_bridge(L, std::move(bridge));
    return 1;
  }
  return 0;
}

int lab_newindex(lua_State* L) {
  const std::string key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";
  Lab& lab = lab_of(L);
  if (key == "timeout") {
    std::optional<Millis> timeout;
    if (!lua_isnil(L, 3)) timeout = read_duration(L, 3, "provium.timeout");
    lab.set_default_timeout(timeout);
    lua_pushvalue(L, 3);
    lua_setiuservalue(L, 1, kTimeoutSlot);
    return 0;
  }
  if (key == "reset_between_tests") {
    if (lua_toboolean(L, 3)) {
      throw std::runtime_error("provium.reset_between_tests is not supported yet (it needs VM snapshots)");
    }
    lua_pushboolean(L, 0);
    lua_setiuservalue(L, 1, kResetSlot);
    return 0;
  }
  throw std::invalid_argument("provium." + key +
                              " cannot be assigned: only provium.timeout and provium.reset_between_tests are "
                              "settable (declare VMs with provium:vm(name, profile))");
}

int lab_tostring(lua_State* L) {
  lua_pushliteral(L, "provium (root lab)");
  return 1;
}

// The table of reserved members, shared by every lookup so that
// provium.pack == provium.pack.
void push_reserved_members(lua_State* L, Lab& lab) {
  lua_newtable(L);
  lua_pushlightuserdata(L, &lab);
  lua_pushcclosure(L, lua_entry<lab_vm>, 1);
  lua_setfield(L, -2, "vm");
  lua_pushcfunction(L, lua_entry<lab_bridge>);
  lua_setfield(L, -2, "bridge");
  lua_pushlightuserdata(L, &lab);
  lua_pushcclosure(L, lua_entry<lab_vm_fixture>, 1);
  lua_setfield(L, -2, "vm_fixture");
  lua_getglobal(L, LUA_STRLIBNAME);
  for (const char* name : {"pack", "unpack"}) {
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, lua_entry<pass_through>, 1);
    lua_setfield(L, -3, name);
  }
  lua_pop(L, 1);
  for (std::string_view name : kNotYetSupported) {
    lua_pushlstring(L, name.data(), name.size());
    lua_pushcclosure(L, lua_entry<not_supported>, 1);
    lua_setfield(L, -2, std::string(name).c_str());
  }
}

}  // namespace

void install_provium_global(lua_State* L, Lab& lab) {
  lua_newuserdatauv(L, 0, 2);
  luaL_newmetatable(L, kLabTypeName);
  lua_pushlightuserdata(L, &lab);
  push_reserved_members(L, lab);
  lua_pushcclosure(L, lua_entry<lab_index>, 2);
  lua_setfield(L, -2, "__index");
  lua_pushlightuserdata(L, &lab);
  lua_pushcclosure(L, lua_entry<lab_newindex>, 1);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, lua_entry<lab_tostring>);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_setglobal(L, "provium");
  lua_pushlightuserdata(L, &lab);
  lua_setfield(L, LUA_REGISTRYINDEX, kLabRegistryKey);
}

Lab* installed_lab(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, kLabRegistryKey);
  Lab* lab = static_cast<Lab*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return lab;
}

}  // namespace provium::runner
