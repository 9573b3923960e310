#include "file_binding.h"

#include "guest_stream.h"
#include "lua_call_site.h"

#include "lab_binding.h"
#include "lua_guard.h"
#include "lua_userdata.h"
#include "lua_values.h"
#include "stream_binding.h"

#include <agent.capnp.h>

#include <limits>
#include <stdexcept>

namespace provium::runner {
namespace {

namespace wire = provium::wire::agent;

FileHandle& self_file(lua_State* L, const char* method) {
  FileHandle* file = test_file(L, 1);
  if (file == nullptr) {
    throw std::invalid_argument(std::string("file:") + method + ": expected a File as self (call it as file:" +
                                method + "(...) with `:`)");
  }
  return *file;
}

std::string context(const FileHandle& file, const char* op) {
  return "vm `" + file.vm().name() + "`: file `" + file.path() + "`: " + op;
}

int file_read(lua_State* L) {
  FileHandle& file = self_file(L, "read");
  const std::int64_t n = read_integer(L, 2, context(file, "read") + ": n");
  if (n < 0) throw std::invalid_argument(context(file, "read") + ": n must not be negative, got " + std::to_string(n));
  const auto capped = static_cast<std::uint32_t>(std::min<std::int64_t>(n, std::numeric_limits<std::uint32_t>::max()));
  const std::string data = n == 0 ? std::string() : file.read(capped);
  lua_pushlstring(L, data.data(), data.size());
  return 1;
}

int file_read_all(lua_State* L) {
  const std::string data = self_file(L, "read_all").read_all();
  lua_pushlstring(L, data.data(), data.size());
  return 1;
}

int file_write(lua_State* L) {
  FileHandle& file = self_file(L, "write");
  const std::string data = read_string(L, 2, context(file, "write") + ": data");
  lua_pushinteger(L, static_cast<lua_Integer>(file.write(data)));
  return 1;
}

int file_seek(lua_State* L) {
  FileHandle& file = self_file(L, "seek");
  const std::int64_t offset = read_integer(L, 2, context(file, "seek") + ": offset");
  int whence = 0;
  if (!lua_isnoneornil(L, 3)) {
    const std::string name = lua_type(L, 3) == LUA_TSTRING ? lua_tostring(L, 3) : lua_type_name(L, 3);
    if (name == "set") whence = 0;
    else if (name == "cur") whence = 1;
    else if (name == "end") whence = 2;
    else throw std::invalid_argument("seek: whence must be set/cur/end, got `" + name + "`");
  }
  lua_pushinteger(L, static_cast<lua_Integer>(file.seek(offset, whence)));
  return 1;
}

int file_tell(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(self_file(L, "tell").tell()));
  return 1;
}

int file_close(lua_State* L) {
  self_file(L, "close").close();
  return 0;
}

int file_fd(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(self_file(L, "fd").fd()));
  return 1;
}

// A tail of the same path from the cursor; the file's own cursor stays put.
int file_tail_stream(lua_State* L) {
  FileHandle& file = self_file(L, "tail_stream");
  const auto cursor = static_cast<std::int64_t>(file.tell());
  const StreamOpened opened = file.vm().tail_file(file.path(), false, cursor);
  push_stream(L, std::make_shared<GuestStream>(file.vm_owner(), opened.key, "file_tail_stream", "`" + file.path() + "`"));
  return 1;
}

int file_tostring(lua_State* L) {
  FileHandle* file = test_file(L, 1);
  if (file == nullptr) lua_pushliteral(L, "file (released)");
  else lua_pushfstring(L, "file `%s` (%s)", file->path().c_str(), file->closed() ? "closed" : "open");
  return 1;
}

constexpr luaL_Reg kMethods[] = {
    {"read", lua_entry<file_read>},
    {"read_all", lua_entry<file_read_all>},
    {"write", lua_entry<file_write>},
    {"seek", lua_entry<file_seek>},
    {"tell", lua_entry<file_tell>},
    {"close", lua_entry<file_close>},
    {"fd", lua_entry<file_fd>},
    {"tail_stream", lua_entry<file_tail_stream>},
    {nullptr, nullptr},
};

bool read_flag(lua_State* L, const std::string& what) {
  if (!lua_isboolean(L, -1)) throw std::invalid_argument(what + " must be a boolean, got " + lua_type_name(L, -1));
  return lua_toboolean(L, -1) != 0;
}

}  // namespace

void register_file_type(lua_State* L) {
  new_shared_type<FileHandle>(L, kFileTypeName, kMethods);
  lua_pushcfunction(L, lua_entry<file_tostring>);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

void push_file(lua_State* L, std::shared_ptr<FileHandle> file) {
  close_with_scope(L, ResourceKind::file, file);
  file->vm().note_open([weak = std::weak_ptr<FileHandle>(file), site = test_code_call_site(L)]()
                           -> std::optional<std::string> {
    auto open = weak.lock();
    if (!open || open->closed()) return std::nullopt;
    return describe_opened("file `" + open->path() + "`", site);
  });
  push_shared(L, kFileTypeName, std::move(file));
}

FileHandle* test_file(lua_State* L, int index) { return test_shared<FileHandle>(L, index, kFileTypeName); }

OpenMode read_open_mode(lua_State* L, int index, const std::string& context) {
  constexpr const char* kPointer =
      "an empty mode opens nothing: set at least one of read, write or append to true, e.g. {read = true} "
      "(see `vm:open_file` in docs/writing-tests.md)";
  if (lua_isnoneornil(L, index)) throw std::invalid_argument(context + ": missing mode table; " + kPointer);
  if (!lua_istable(L, index)) {
    throw std::invalid_argument(context + ": mode must be a table, got " + lua_type_name(L, index));
  }
  OpenMode mode;
  for_each_field(L, index, context + ": mode", [&](const std::string& key) {
    const std::string what = context + ": mode." + key;
    const auto flag = [&](std::uint32_t bit) {
      if (read_flag(L, what)) mode.bits |= bit;
    };
    if (key == "read") flag(wire::OPEN_READ);
    else if (key == "write") flag(wire::OPEN_WRITE);
    else if (key == "create") flag(wire::OPEN_CREATE);
    else if (key == "truncate") flag(wire::OPEN_TRUNCATE);
    else if (key == "append") flag(wire::OPEN_APPEND);
    else if (key == "exclusive") flag(wire::OPEN_EXCLUSIVE);
    else if (key == "perm") {
      const std::int64_t perm = read_integer(L, -1, what);
      if (perm < 0 || perm > 07777) {
        throw std::invalid_argument(what + " must be POSIX mode bits in 0..0o7777 (4095), got " + std::to_string(perm));
      }
      mode.perm = static_cast<std::uint32_t>(perm);
    } else {
      throw std::invalid_argument(context + ": unknown mode key `" + key +
                                  "` (known: read, write, create, truncate, append, exclusive, perm)");
    }
  });
  if ((mode.bits & (wire::OPEN_READ | wire::OPEN_WRITE | wire::OPEN_APPEND)) == 0) {
    throw std::invalid_argument(context + ": " + kPointer);
  }
  return mode;
}

}  // namespace provium::runner
