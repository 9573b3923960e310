#include "lua_call_site.h"

#include <string_view>

namespace provium::runner {

std::optional<CallSite> test_code_call_site(lua_State* L) {
  lua_Debug frame{};
  for (int level = 1; lua_getstack(L, level, &frame) != 0; ++level) {
    if (lua_getinfo(L, "Sl", &frame) == 0 || frame.source == nullptr || frame.source[0] != '@') continue;
    const std::string_view file(frame.source + 1);
    if (file.ends_with(".test.lua") || file.ends_with(".fixture.lua")) {
      return CallSite{.file = std::string(file), .line = frame.currentline};
    }
  }
  return std::nullopt;
}

void push_call_site(lua_State* L, const std::optional<CallSite>& site) {
  if (!site) {
    lua_pushnil(L);
    return;
  }
  lua_createtable(L, 0, 2);
  lua_pushlstring(L, site->file.data(), site->file.size());
  lua_setfield(L, -2, "file");
  lua_pushinteger(L, site->line);
  lua_setfield(L, -2, "line");
}

}  // namespace provium::runner
