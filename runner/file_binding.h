// File userdata (vm:open_file) and the open_file mode table.
#pragma once

#include "file_handle.h"

#include <lua.hpp>

#include <memory>
#include <string>

namespace provium::runner {

inline constexpr const char* kFileTypeName = "provium.File";

void register_file_type(lua_State* L);
void push_file(lua_State* L, std::shared_ptr<FileHandle> file);
// The File at `index`, or nullptr.
FileHandle* test_file(lua_State* L, int index);
// {read, write, create, truncate, append, exclusive, perm}; throws
// std::invalid_argument with `context` when it is not a valid mode.
OpenMode read_open_mode(lua_State* L, int index, const std::string& context);

}  // namespace provium::runner
