#include "json_encode.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <unordered_set>
#include <utility>
#include <vector>

namespace provium::runner {
namespace {

constexpr int kMaxDepth = 500;
// {[1e9] = true} would otherwise ask for a billion nulls.
constexpr lua_Integer kMaxPadding = 1 << 20;

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (byte < 0x80) { ++i; continue; }
    if ((byte & 0xE0) == 0xC0) { length = 2; code = byte & 0x1F; }
    else if ((byte & 0xF0) == 0xE0) { length = 3; code = byte & 0x0F; }
    else if ((byte & 0xF8) == 0xF0) { length = 4; code = byte & 0x07; }
    else return false;
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    const std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < smallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += length;
  }
  return true;
}

void append_string(std::string& out, std::string_view text) {
  if (!valid_utf8(text)) throw std::invalid_argument("json.encode: string is not valid UTF-8");
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escape[8];
          std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(c));
          out += escape;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_float(std::string& out, double value) {
  // Like serde_json: non-finite numbers have no JSON form and become null.
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string_view text(buffer, static_cast<std::size_t>(result.ptr - buffer));
  out += text;
  // Keep floats recognisable as floats: 1.0, not 1.
  if (text.find_first_of(".eE") == std::string_view::npos) out += ".0";
}

std::string key_text(lua_State* L, int index) {
  switch (lua_type(L, index)) {
    case LUA_TSTRING: return lua_tostring(L, index);
    case LUA_TNUMBER: {
      if (lua_isinteger(L, index)) return std::to_string(lua_tointeger(L, index));
      std::string text;
      append_float(text, lua_tonumber(L, index));
      return text;
    }
    default:
      throw std::invalid_argument(std::string("json.encode: cannot use a ") + luaL_typename(L, index) +
                                  " as an object key");
  }
}

class Encoder {
 public:
  explicit Encoder(lua_State* L) : L_(L) {}

  void value(int index, int depth) {
    switch (lua_type(L_, index)) {
      case LUA_TNIL: out_ += "null"; break;
      case LUA_TBOOLEAN: out_ += lua_toboolean(L_, index) ? "true" : "false"; break;
      case LUA_TNUMBER:
        if (lua_isinteger(L_, index)) out_ += std::to_string(lua_tointeger(L_, index));
        else append_float(out_, lua_tonumber(L_, index));
        break;
      case LUA_TSTRING: {
        std::size_t size = 0;
        const char* text = lua_tolstring(L_, index, &size);
        append_string(out_, std::string_view(text, size));
        break;
      }
      case LUA_TTABLE: table(index, depth); break;
      default:
        throw std::invalid_argument(std::string("json.encode: cannot encode a ") + luaL_typename(L_, index) +
                                    " value");
    }
  }

  std::string take() { return std::move(out_); }

 private:
  void table(int index, int depth) {
    index = lua_absindex(L_, index);
    if (depth >= kMaxDepth) throw std::invalid_argument("json.encode: tables nested too deeply");
    const void* identity = lua_topointer(L_, index);
    if (!open_.insert(identity).second) throw std::invalid_argument("json.encode: cannot encode a cycle");
    luaL_checkstack(L_, 4, "json.encode");
    lua_Integer max_key = 0;
    lua_Integer count = 0;
    bool array = true;
    lua_pushnil(L_);
    while (lua_next(L_, index) != 0) {
      lua_pop(L_, 1);
      ++count;
      if (array && lua_isinteger(L_, -1) && lua_tointeger(L_, -1) > 0) {
        max_key = std::max(max_key, lua_tointeger(L_, -1));
      } else {
        array = false;
      }
    }
    if (array && count > 0) {
      if (max_key - count > kMaxPadding) throw std::invalid_argument("json.encode: array is too sparse");
      emit_array(index, max_key, depth);
    } else {
      emit_object(index, depth);
    }
    open_.erase(identity);
  }

  void emit_array(int index, lua_Integer length, int depth) {
    out_ += '[';
    for (lua_Integer i = 1; i <= length; ++i) {
      if (i > 1) out_ += ',';
      lua_rawgeti(L_, index, i);
      value(-1, depth + 1);
      lua_pop(L_, 1);
    }
    out_ += ']';
  }

  void emit_object(int index, int depth) {
    // Sorted keys: deterministic output, like serde_json's default map.
    std::vector<std::pair<std::string, int>> keys;
    lua_newtable(L_);  // key text -> original key, to fetch values back
    const int lookup = lua_gettop(L_);
    int slot = 0;
    lua_pushnil(L_);
    while (lua_next(L_, index) != 0) {
      lua_pop(L_, 1);
      keys.emplace_back(key_text(L_, -1), ++slot);
      lua_pushvalue(L_, -1);
      lua_rawseti(L_, lookup, slot);
    }
    std::sort(keys.begin(), keys.end());
    out_ += '{';
    bool first = true;
    for (const auto& [text, key_slot] : keys) {
      if (!first) out_ += ',';
      first = false;
      append_string(out_, text);
      out_ += ':';
      lua_rawgeti(L_, lookup, key_slot);
      lua_rawget(L_, index);
      value(-1, depth + 1);
      lua_pop(L_, 1);
    }
    out_ += '}';
    lua_pop(L_, 1);
  }

  lua_State* L_;
  std::string out_;
  std::unordered_set<const void*> open_;
};

}  // namespace

std::string json_encode(lua_State* L, int index) {
  Encoder encoder(L);
  encoder.value(index, 0);
  return encoder.take();
}

}  // namespace provium::runner
