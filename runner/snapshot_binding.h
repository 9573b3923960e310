// The Snapshot userdata (docs/snapshots.md): a handle on a snapshot file
// the supervisor wrote: snap:path(), snap:size(), snap:delete(); and the
// LabSnapshot, the same on a lab snapshot directory (size: its files, one
// level deep; delete: the directory with them). And the VM methods that make
// and use Snapshots: vm:snapshot([path]), vm:restore(snap|path).
#pragma once

#include <lua.hpp>

#include <optional>
#include <string>

namespace provium::runner {

inline constexpr const char* kSnapshotTypeName = "provium.Snapshot";
inline constexpr const char* kLabSnapshotTypeName = "provium.LabSnapshot";

// Registers both metatables (once per state, under run_protected()).
void register_snapshot_type(lua_State* L);

void push_snapshot(lua_State* L, std::string path);
void push_lab_snapshot(lua_State* L, std::string path);
// The path of the Snapshot / LabSnapshot at `index`, if it is one.
std::optional<std::string> snapshot_path_at(lua_State* L, int index);
std::optional<std::string> lab_snapshot_path_at(lua_State* L, int index);

// vm:snapshot and vm:restore, for vm_binding.cpp's method table.
int vm_snapshot(lua_State* L);
int vm_restore(lua_State* L);

}  // namespace provium::runner
