// Path op results and options between Lua and C++ (vm:stat, vm:listdir,
// vm:mkdir). Readers throw std::invalid_argument (use inside lua_entry()).
#pragma once

#include "guest_path.h"

#include <lua.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace provium::runner {

struct MkdirOptions {
  bool parents = false;
  std::uint32_t perm = 0755;
};

// {size, mtime (float s), mtime_ns, perm, entry_type, uid, gid, nlink, inode}
void push_guest_stat(lua_State* L, const GuestStat& stat);
// An array of {name, entry_type}.
void push_dir_entries(lua_State* L, const std::vector<GuestDirEntry>& entries);
// {parents=bool, perm=int}; absent or nil gives the defaults.
MkdirOptions read_mkdir_options(lua_State* L, int index, const std::string& context);

}  // namespace provium::runner
