// The LabSnapshot userdata (docs/snapshots.md): a handle on a lab snapshot
// directory the supervisor made: snap:path(), snap:size() (its files, one
// level deep), snap:delete() (the directory and its files; idempotent).
// lab:snapshot() returns one; lab:restore() and fixture chunks take one.
#pragma once

#include <lua.hpp>

#include <optional>
#include <string>

namespace provium::runner {

inline constexpr const char* kLabSnapshotTypeName = "provium.LabSnapshot";

// Registers the metatable (once per state, under run_protected()).
void register_lab_snapshot_type(lua_State* L);
void push_lab_snapshot(lua_State* L, std::string path);

// The directory of the LabSnapshot at `index`, if it is one.
std::optional<std::string> lab_snapshot_path_at(lua_State* L, int index);

}  // namespace provium::runner
