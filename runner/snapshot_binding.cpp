#include "snapshot_binding.h"

#include "lab_binding.h"
#include "lua_guard.h"
#include "lua_userdata.h"
#include "lua_values.h"
#include "vm_binding.h"

#include <memory>
#include <stdexcept>
#include <string>

namespace provium::runner {
namespace {

struct SnapshotHandle {
  std::string path;
};

SupervisorLink& link_of(lua_State* L) {
  Lab* lab = installed_lab(L);
  if (lab == nullptr) throw std::logic_error("snapshots: no provium lab in this Lua state");
  return lab->link();
}

SnapshotHandle& self_snapshot(lua_State* L, const char* method) {
  SnapshotHandle* snapshot = test_shared<SnapshotHandle>(L, 1, kSnapshotTypeName);
  if (snapshot == nullptr) {
    throw std::invalid_argument(std::string("snapshot:") + method + ": expected a Snapshot as self (call it as snap:" +
                                method + "() with `:`)");
  }
  return *snapshot;
}

Vm& vm_self(lua_State* L, const char* method) {
  Vm* vm = test_shared<Vm>(L, 1, kVmTypeName);
  if (vm == nullptr) {
    throw std::invalid_argument(std::string("vm:") + method + ": expected a VM as self (call it as vm:" + method +
                                "(...) with `:`)");
  }
  return *vm;
}

void push_snapshot(lua_State* L, std::string path) {
  push_shared(L, kSnapshotTypeName, std::make_shared<SnapshotHandle>(SnapshotHandle{std::move(path)}));
}

int snapshot_path(lua_State* L) {
  const std::string& path = self_snapshot(L, "path").path;
  lua_pushlstring(L, path.data(), path.size());
  return 1;
}

int snapshot_size(lua_State* L) {
  const auto size = link_of(L).snapshot_size(self_snapshot(L, "size").path);
  lua_pushinteger(L, static_cast<lua_Integer>(size.value_or(0)));
  return 1;
}

int snapshot_delete(lua_State* L) {
  link_of(L).delete_snapshot(self_snapshot(L, "delete").path);
  return 0;
}

int snapshot_tostring(lua_State* L) {
  SnapshotHandle* snapshot = test_shared<SnapshotHandle>(L, 1, kSnapshotTypeName);
  lua_pushstring(L, snapshot ? ("Snapshot(" + snapshot->path + ")").c_str() : "Snapshot(invalid)");
  return 1;
}

const luaL_Reg kSnapshotMethods[] = {
    {"path", lua_entry<snapshot_path>},
    {"size", lua_entry<snapshot_size>},
    {"delete", lua_entry<snapshot_delete>},
    {nullptr, nullptr},
};

}  // namespace

void register_snapshot_type(lua_State* L) {
  new_shared_type<SnapshotHandle>(L, kSnapshotTypeName, kSnapshotMethods);
  lua_pushcfunction(L, lua_entry<snapshot_tostring>);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

std::optional<std::string> snapshot_path_at(lua_State* L, int index) {
  SnapshotHandle* snapshot = test_shared<SnapshotHandle>(L, index, kSnapshotTypeName);
  if (snapshot == nullptr) return std::nullopt;
  return snapshot->path;
}

int vm_snapshot(lua_State* L) {
  Vm& vm = vm_self(L, "snapshot");
  std::string path;
  if (!lua_isnoneornil(L, 2)) path = read_text(L, 2, "vm `" + vm.name() + "`: snapshot: path");
  push_snapshot(L, vm.snapshot(path).path);
  return 1;
}

int vm_restore(lua_State* L) {
  Vm& vm = vm_self(L, "restore");
  std::string path;
  if (SnapshotHandle* snapshot = test_shared<SnapshotHandle>(L, 2, kSnapshotTypeName)) {
    path = snapshot->path;
  } else if (lua_type(L, 2) == LUA_TSTRING) {
    path = lua_tostring(L, 2);
  } else {
    throw std::invalid_argument("vm `" + vm.name() + "`: restore: expected a Snapshot or a path string, got " +
                                luaL_typename(L, 2));
  }
  vm.restore(path);
  // Bridges it is a member of take the restored guest in again.
  if (Lab* lab = installed_lab(L)) {
    try {
      lab->rejoin_bridges(vm);
    } catch (const TestTimedOut&) {
      throw;
    } catch (const std::runtime_error& error) {
      throw std::runtime_error("vm `" + vm.name() + "`: restore: " + error.what());
    }
  }
  lua_settop(L, 1);
  return 1;
}

}  // namespace provium::runner
