// Stream userdata (a Tail in 1000-streams.md): next, read_until, expect,
// drain, close, eof, creation_site.
#pragma once

#include "guest_stream.h"

#include <lua.hpp>

#include <memory>

namespace provium::runner {

inline constexpr const char* kStreamTypeName = "provium.Stream";

void register_stream_type(lua_State* L);
void push_stream(lua_State* L, std::shared_ptr<GuestStream> stream);

}  // namespace provium::runner
