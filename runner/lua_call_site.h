// Where in the user's test code a call came from: the innermost frame on the
// Lua stack whose chunk is a *.test.lua or *.fixture.lua file (helper modules
// in between are skipped). Streams remember it, so a later complaint about a
// live stream can say where it was opened.
#pragma once

#include <lua.hpp>

#include <optional>
#include <string>

namespace provium::runner {

struct CallSite {
  std::string file;
  int line = 0;
};

std::optional<CallSite> test_code_call_site(lua_State* L);

// Pushes {file = ..., line = ...} or nil.
void push_call_site(lua_State* L, const std::optional<CallSite>& site);

}  // namespace provium::runner
