#include "guest_path_lua.h"

#include "lua_values.h"

#include <stdexcept>

namespace provium::runner {
namespace {

void set_integer(lua_State* L, const char* key, lua_Integer value) {
  lua_pushinteger(L, value);
  lua_setfield(L, -2, key);
}

}  // namespace

void push_guest_stat(lua_State* L, const GuestStat& stat) {
  lua_createtable(L, 0, 9);
  set_integer(L, "size", static_cast<lua_Integer>(stat.size));
  lua_pushnumber(L, static_cast<lua_Number>(stat.mtime_ns) / 1e9);
  lua_setfield(L, -2, "mtime");
  set_integer(L, "mtime_ns", stat.mtime_ns);
  set_integer(L, "perm", stat.perm);
  lua_pushstring(L, stat.entry_type.c_str());
  lua_setfield(L, -2, "entry_type");
  set_integer(L, "uid", stat.uid);
  set_integer(L, "gid", stat.gid);
  set_integer(L, "nlink", static_cast<lua_Integer>(stat.nlink));
  set_integer(L, "inode", static_cast<lua_Integer>(stat.inode));
}

void push_dir_entries(lua_State* L, const std::vector<GuestDirEntry>& entries) {
  lua_createtable(L, static_cast<int>(entries.size()), 0);
  lua_Integer position = 0;
  for (const GuestDirEntry& entry : entries) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, entry.name.c_str());
    lua_setfield(L, -2, "name");
    lua_pushstring(L, entry.entry_type.c_str());
    lua_setfield(L, -2, "entry_type");
    lua_rawseti(L, -2, ++position);
  }
}

MkdirOptions read_mkdir_options(lua_State* L, int index, const std::string& context) {
  MkdirOptions options;
  if (lua_isnoneornil(L, index)) return options;
  if (!lua_istable(L, index)) {
    throw std::invalid_argument(context + ": options must be a table, got " + lua_type_name(L, index));
  }
  for_each_field(L, index, context + ": options", [&](const std::string& key) {
    const std::string what = context + ": " + key;
    if (key == "parents") {
      if (!lua_isboolean(L, -1)) throw std::invalid_argument(what + " must be a boolean, got " + lua_type_name(L, -1));
      options.parents = lua_toboolean(L, -1) != 0;
    } else if (key == "perm") {
      const std::int64_t perm = read_integer(L, -1, what);
      if (perm < 0 || perm > 07777) {
        throw std::invalid_argument(what + " must be POSIX mode bits in 0..0o7777 (4095), got " + std::to_string(perm));
      }
      options.perm = static_cast<std::uint32_t>(perm);
    } else {
      throw std::invalid_argument(context + ": unknown option `" + key + "` (known: parents, perm)");
    }
  });
  return options;
}

}  // namespace provium::runner
