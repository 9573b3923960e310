#include "json_decode.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace provium::runner {
namespace {

constexpr int kMaxDepth = 500;

void append_utf8(std::string& out, std::uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

class Decoder {
 public:
  Decoder(lua_State* L, std::string_view text) : L_(L), text_(text) {}

  void document() {
    skip_space();
    value(0);
    skip_space();
    if (pos_ != text_.size()) fail("trailing characters after the value");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    throw std::invalid_argument("json.decode: " + what + " at line " + std::to_string(line) + " column " +
                                std::to_string(column));
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
  }

  void expect_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) fail("expected a value");
    pos_ += word.size();
  }

  // Pushes one value (nil for null).
  void value(int depth) {
    if (depth > kMaxDepth) fail("nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    luaL_checkstack(L_, 3, "json.decode");
    if (at_end()) fail("unexpected end of input, expected a value");
    switch (peek()) {
      case '{': object(depth); break;
      case '[': array(depth); break;
      case '"': {
        const std::string text = string();
        lua_pushlstring(L_, text.data(), text.size());
        break;
      }
      case 't': expect_word("true"); lua_pushboolean(L_, 1); break;
      case 'f': expect_word("false"); lua_pushboolean(L_, 0); break;
      case 'n': expect_word("null"); lua_pushnil(L_); break;
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) number();
        else fail("expected a value");
    }
  }

  void object(int depth) {
    ++pos_;
    lua_newtable(L_);
    skip_space();
    if (peek() == '}') {
      ++pos_;
      return;
    }
    for (;;) {
      skip_space();
      if (peek() != '"') fail("expected a string key");
      const std::string key = string();
      skip_space();
      if (peek() != ':') fail("expected `:` after an object key");
      ++pos_;
      skip_space();
      value(depth + 1);
      // A null value leaves the key absent, as Lua tables cannot hold nil.
      lua_pushlstring(L_, key.data(), key.size());
      lua_insert(L_, -2);
      lua_rawset(L_, -3);
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return;
      }
      fail(at_end() ? "unexpected end of input in an object" : "expected `,` or `}` in an object");
    }
  }

  void array(int depth) {
    ++pos_;
    lua_newtable(L_);
    skip_space();
    if (peek() == ']') {
      ++pos_;
      return;
    }
    for (lua_Integer index = 1;; ++index) {
      skip_space();
      value(depth + 1);
      lua_rawseti(L_, -2, index);  // nil leaves a hole
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return;
      }
      fail(at_end() ? "unexpected end of input in an array" : "expected `,` or `]` in an array");
    }
  }

  std::uint32_t hex4() {
    if (pos_ + 4 > text_.size()) fail("truncated \\u escape");
    std::uint32_t code = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      code <<= 4;
      if (c >= '0' && c <= '9') code |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') code |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') code |= static_cast<std::uint32_t>(c - 'A' + 10);
      else fail("invalid \\u escape");
    }
    return code;
  }

  std::uint32_t unicode_escape() {
    std::uint32_t code = hex4();
    if (code >= 0xDC00 && code <= 0xDFFF) fail("lone low surrogate in \\u escape");
    if (code >= 0xD800 && code <= 0xDBFF) {
      if (text_.substr(pos_, 2) != "\\u") fail("lone high surrogate in \\u escape");
      pos_ += 2;
      const std::uint32_t low = hex4();
      if (low < 0xDC00 || low > 0xDFFF) fail("invalid surrogate pair in \\u escape");
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    return code;
  }

  // Copies one UTF-8 sequence starting at pos_, checking it is well formed.
  void utf8_sequence(std::string& out) {
    const auto lead = static_cast<unsigned char>(text_[pos_]);
    std::size_t length = 0;
    std::uint32_t code = 0;
    if ((lead & 0xE0) == 0xC0) { length = 2; code = lead & 0x1F; }
    else if ((lead & 0xF0) == 0xE0) { length = 3; code = lead & 0x0F; }
    else if ((lead & 0xF8) == 0xF0) { length = 4; code = lead & 0x07; }
    else fail("invalid UTF-8 in a string");
    if (pos_ + length > text_.size()) fail("invalid UTF-8 in a string");
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text_[pos_ + k]);
      if ((next & 0xC0) != 0x80) fail("invalid UTF-8 in a string");
      code = (code << 6) | (next & 0x3F);
    }
    const std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < smallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      fail("invalid UTF-8 in a string");
    }
    out.append(text_.substr(pos_, length));
    pos_ += length;
  }

  std::string string() {
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (at_end()) fail("unexpected end of input in a string");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (static_cast<unsigned char>(c) >= 0x80) {
        utf8_sequence(out);
        continue;
      }
      ++pos_;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_end()) fail("unexpected end of input in a string");
      const char escape = text_[pos_++];
      switch (escape) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': append_utf8(out, unicode_escape()); break;
        default: --pos_; fail("invalid escape in a string");
      }
    }
  }

  void number() {
    const std::size_t start = pos_;
    const bool negative = peek() == '-';
    if (negative) ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (peek() >= '1' && peek() <= '9') {
      while (peek() >= '0' && peek() <= '9') ++pos_;
    } else {
      fail("invalid number");
    }
    bool integral = true;
    if (peek() == '.') {
      integral = false;
      ++pos_;
      if (!(peek() >= '0' && peek() <= '9')) fail("invalid number: expected digits after `.`");
      while (peek() >= '0' && peek() <= '9') ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      integral = false;
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!(peek() >= '0' && peek() <= '9')) fail("invalid number: expected digits in the exponent");
      while (peek() >= '0' && peek() <= '9') ++pos_;
    }
    const std::string_view text = text_.substr(start, pos_ - start);
    if (integral && push_integer(text, negative)) return;
    double value = 0;
    const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
    if (result.ec == std::errc::result_out_of_range) {
      // Beyond double range: from_chars leaves `value` alone; use +-inf like strtod.
      value = negative ? -HUGE_VAL : HUGE_VAL;
    } else if (result.ec != std::errc()) {
      fail("invalid number");
    }
    lua_pushnumber(L_, value);
  }

  // Integers that fit i64 exactly, or u64 with the bit pattern kept.
  bool push_integer(std::string_view text, bool negative) {
    const std::string_view digits = negative ? text.substr(1) : text;
    std::uint64_t magnitude = 0;
    const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
    if (result.ec != std::errc()) return false;  // beyond u64: a float
    if (negative) {
      if (magnitude > (std::uint64_t{1} << 63)) return false;
      lua_pushinteger(L_, static_cast<lua_Integer>(0 - magnitude));
    } else {
      lua_pushinteger(L_, static_cast<lua_Integer>(magnitude));
    }
    return true;
  }

  lua_State* L_;
  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

void json_decode(lua_State* L, std::string_view text) {
  Decoder(L, text).document();
}

}  // namespace provium::runner
