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

// A Snapshot (a file) and a LabSnapshot (a directory) are both a path the
// supervisor made, with the same three methods; they differ in type only.
struct SnapshotHandle {
  std::string path;
};

struct FileSnapshot {
  static constexpr const char* type = kSnapshotTypeName;
  static constexpr const char* label = "Snapshot";
};

struct DirectorySnapshot {
  static constexpr const char* type = kLabSnapshotTypeName;
  static constexpr const char* label = "LabSnapshot";
};

SupervisorLink& link_of(lua_State* L) {
  Lab* lab = installed_lab(L);
  if (lab == nullptr) throw std::logic_error("snapshots: no provium lab in this Lua state");
  return lab->link();
}

template <typename Kind>
SnapshotHandle& self_snapshot(lua_State* L, const char* method) {
  SnapshotHandle* snapshot = test_shared<SnapshotHandle>(L, 1, Kind::type);
  if (snapshot == nullptr) {
    throw std::invalid_argument(std::string("snapshot:") + method + ": expected a " + Kind::label +
                                " as self (call it as snap:" + method + "() with `:`)");
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

template <typename Kind>
int snapshot_path(lua_State* L) {
  const std::string& path = self_snapshot<Kind>(L, "path").path;
  lua_pushlstring(L, path.data(), path.size());
  return 1;
}

// A LabSnapshot's size is its files', one level deep (the supervisor sums them).
template <typename Kind>
int snapshot_size(lua_State* L) {
  const auto size = link_of(L).snapshot_size(self_snapshot<Kind>(L, "size").path);
  lua_pushinteger(L, static_cast<lua_Integer>(size.value_or(0)));
  return 1;
}

template <typename Kind>
int snapshot_delete(lua_State* L) {
  link_of(L).delete_snapshot(self_snapshot<Kind>(L, "delete").path);
  return 0;
}

template <typename Kind>
int snapshot_tostring(lua_State* L) {
  SnapshotHandle* snapshot = test_shared<SnapshotHandle>(L, 1, Kind::type);
  const std::string text = std::string(Kind::label) + "(" + (snapshot ? snapshot->path : "invalid") + ")";
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

template <typename Kind>
void register_type(lua_State* L) {
  static const luaL_Reg kMethods[] = {
      {"path", lua_entry<snapshot_path<Kind>>},
      {"size", lua_entry<snapshot_size<Kind>>},
      {"delete", lua_entry<snapshot_delete<Kind>>},
      {nullptr, nullptr},
  };
  new_shared_type<SnapshotHandle>(L, Kind::type, kMethods);
  lua_pushcfunction(L, lua_entry<snapshot_tostring<Kind>>);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

template <typename Kind>
std::optional<std::string> path_at(lua_State* L, int index) {
  SnapshotHandle* snapshot = test_shared<SnapshotHandle>(L, index, Kind::type);
  if (snapshot == nullptr) return std::nullopt;
  return snapshot->path;
}

}  // namespace

void register_snapshot_type(lua_State* L) {
  register_type<FileSnapshot>(L);
  register_type<DirectorySnapshot>(L);
}

void push_snapshot(lua_State* L, std::string path) {
  push_shared(L, kSnapshotTypeName, std::make_shared<SnapshotHandle>(SnapshotHandle{std::move(path)}));
}

void push_lab_snapshot(lua_State* L, std::string path) {
  push_shared(L, kLabSnapshotTypeName, std::make_shared<SnapshotHandle>(SnapshotHandle{std::move(path)}));
}

std::optional<std::string> snapshot_path_at(lua_State* L, int index) { return path_at<FileSnapshot>(L, index); }

std::optional<std::string> lab_snapshot_path_at(lua_State* L, int index) {
  return path_at<DirectorySnapshot>(L, index);
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
  if (auto snapshot = snapshot_path_at(L, 2)) {
    path = *snapshot;
  } else if (lua_type(L, 2) == LUA_TSTRING) {
    path = lua_tostring(L, 2);
  } else {
    throw std::invalid_argument("vm `" + vm.name() + "`: restore: expected a Snapshot or a path string, got " +
                                luaL_typename(L, 2));
  }
  vm.restore(path);
  rejoin_bridges(L, vm, "restore");  // bridges it is a member of take the restored guest in again
  lua_settop(L, 1);
  return 1;
}

}  // namespace provium::runner
