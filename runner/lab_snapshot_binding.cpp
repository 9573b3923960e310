#include "lab_snapshot_binding.h"

#include "lab_binding.h"
#include "lua_guard.h"
#include "lua_userdata.h"

#include <memory>
#include <stdexcept>

namespace provium::runner {
namespace {

struct LabSnapshotHandle {
  std::string path;
};

SupervisorLink& link_of(lua_State* L) {
  Lab* lab = installed_lab(L);
  if (lab == nullptr) throw std::logic_error("lab snapshots: no provium lab in this Lua state");
  return lab->link();
}

LabSnapshotHandle& self_snapshot(lua_State* L, const char* method) {
  auto* snapshot = test_shared<LabSnapshotHandle>(L, 1, kLabSnapshotTypeName);
  if (snapshot == nullptr) {
    throw std::invalid_argument(std::string("lab_snapshot:") + method +
                                ": expected a LabSnapshot as self (call it as snap:" + method + "() with `:`)");
  }
  return *snapshot;
}

int lab_snapshot_path(lua_State* L) {
  const std::string& path = self_snapshot(L, "path").path;
  lua_pushlstring(L, path.data(), path.size());
  return 1;
}

int lab_snapshot_size(lua_State* L) {
  const auto size = link_of(L).snapshot_size(self_snapshot(L, "size").path);
  lua_pushinteger(L, static_cast<lua_Integer>(size.value_or(0)));
  return 1;
}

int lab_snapshot_delete(lua_State* L) {
  link_of(L).delete_snapshot(self_snapshot(L, "delete").path);
  return 0;
}

int lab_snapshot_tostring(lua_State* L) {
  auto* snapshot = test_shared<LabSnapshotHandle>(L, 1, kLabSnapshotTypeName);
  lua_pushstring(L, snapshot ? ("LabSnapshot(" + snapshot->path + ")").c_str() : "LabSnapshot(invalid)");
  return 1;
}

const luaL_Reg kLabSnapshotMethods[] = {
    {"path", lua_entry<lab_snapshot_path>},
    {"size", lua_entry<lab_snapshot_size>},
    {"delete", lua_entry<lab_snapshot_delete>},
    {nullptr, nullptr},
};

}  // namespace

void register_lab_snapshot_type(lua_State* L) {
  new_shared_type<LabSnapshotHandle>(L, kLabSnapshotTypeName, kLabSnapshotMethods);
  lua_pushcfunction(L, lua_entry<lab_snapshot_tostring>);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

void push_lab_snapshot(lua_State* L, std::string path) {
  push_shared(L, kLabSnapshotTypeName, std::make_shared<LabSnapshotHandle>(LabSnapshotHandle{std::move(path)}));
}

std::optional<std::string> lab_snapshot_path_at(lua_State* L, int index) {
  auto* snapshot = test_shared<LabSnapshotHandle>(L, index, kLabSnapshotTypeName);
  if (snapshot == nullptr) return std::nullopt;
  return snapshot->path;
}

}  // namespace provium::runner
