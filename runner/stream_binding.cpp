#include "stream_binding.h"

#include "lab_binding.h"
#include "lua_guard.h"
#include "lua_userdata.h"
#include "lua_values.h"

#include <stdexcept>
#include <string>

namespace provium::runner {
namespace {

GuestStream& self_stream(lua_State* L, const char* method) {
  GuestStream* stream = test_shared<GuestStream>(L, 1, kStreamTypeName);
  if (stream == nullptr) {
    throw std::invalid_argument(std::string("stream:") + method + ": expected a stream as self (call it as stream:" +
                                method + "(...) with `:`)");
  }
  return *stream;
}

std::chrono::milliseconds read_wait(lua_State* L, int index, std::chrono::milliseconds fallback,
                                    const std::string& what) {
  if (lua_isnoneornil(L, index)) return fallback;
  return std::chrono::milliseconds(read_duration(L, index, what).count());
}

int stream_next(lua_State* L) {
  GuestStream& stream = self_stream(L, "next");
  const auto data = stream.next(read_wait(L, 2, kStreamWaitDefault, stream.what() + ": next: timeout"));
  if (data) lua_pushlstring(L, data->data(), data->size());
  else lua_pushnil(L);
  return 1;
}

int stream_read_until(lua_State* L) {
  GuestStream& stream = self_stream(L, "read_until");
  const std::string pattern = read_string(L, 2, stream.what() + ": read_until: pattern");
  const std::string prefix =
      stream.read_until(pattern, read_wait(L, 3, kStreamWaitDefault, stream.what() + ": read_until: timeout"));
  lua_pushlstring(L, prefix.data(), prefix.size());
  return 1;
}

int stream_expect(lua_State* L) {
  GuestStream& stream = self_stream(L, "expect");
  const std::string pattern = read_string(L, 2, stream.what() + ": expect: pattern");
  stream.read_until(pattern, read_wait(L, 3, kStreamWaitDefault, stream.what() + ": expect: timeout"));
  return 0;
}

int stream_drain(lua_State* L) {
  GuestStream& stream = self_stream(L, "drain");
  const auto frames = stream.drain(read_wait(L, 2, kStreamDrainDefault, stream.what() + ": drain: timeout"));
  lua_createtable(L, static_cast<int>(frames.size()), 0);
  lua_Integer position = 0;
  for (const std::string& frame : frames) {
    lua_pushlstring(L, frame.data(), frame.size());
    lua_rawseti(L, -2, ++position);
  }
  return 1;
}

int stream_close(lua_State* L) {
  self_stream(L, "close").close();
  return 0;
}

int stream_eof(lua_State* L) {
  lua_pushboolean(L, self_stream(L, "eof").eof());
  return 1;
}

int stream_creation_site(lua_State* L) {
  push_call_site(L, self_stream(L, "creation_site").creation_site());
  return 1;
}

int stream_tostring(lua_State* L) {
  GuestStream* stream = test_shared<GuestStream>(L, 1, kStreamTypeName);
  if (stream == nullptr) lua_pushliteral(L, "stream (released)");
  else lua_pushfstring(L, "stream %s", stream->what().c_str());
  return 1;
}

constexpr luaL_Reg kMethods[] = {
    {"next", lua_entry<stream_next>},
    {"read_until", lua_entry<stream_read_until>},
    {"expect", lua_entry<stream_expect>},
    {"drain", lua_entry<stream_drain>},
    {"close", lua_entry<stream_close>},
    {"eof", lua_entry<stream_eof>},
    {"creation_site", lua_entry<stream_creation_site>},
    {nullptr, nullptr},
};

}  // namespace

void register_stream_type(lua_State* L) {
  new_shared_type<GuestStream>(L, kStreamTypeName, kMethods);
  lua_pushcfunction(L, lua_entry<stream_tostring>);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

void push_stream(lua_State* L, std::shared_ptr<GuestStream> stream) {
  if (!stream->creation_site()) {
    // First time test code sees it: the current scope closes it at its end.
    stream->set_creation_site(test_code_call_site(L));
    close_with_scope(L, ResourceKind::stream, stream);
    if (auto vm = stream->vm()) {
      vm->note_open([weak = std::weak_ptr<GuestStream>(stream)]() -> std::optional<std::string> {
        auto open = weak.lock();
        if (!open || open->is_closed()) return std::nullopt;
        return describe_opened("stream " + open->what(), open->creation_site());
      });
    }
  }
  push_shared(L, kStreamTypeName, std::move(stream));
}

}  // namespace provium::runner
