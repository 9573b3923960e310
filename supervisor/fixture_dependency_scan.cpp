#include "fixture_dependency_scan.h"

#include <cctype>
#include <cstddef>

namespace provium {
namespace {

struct Token {
  enum class Kind { name, string, symbol, end } kind = Kind::end;
  std::string text;  // a string's value, unescaped
  int line = 0;
};

// Just enough of Lua's lexer to see names, strings and punctuation with
// comments skipped: no numbers beyond skipping them, no keywords.
class Lexer {
 public:
  explicit Lexer(std::string_view source) : source_(source) {}

  Token next() {
    skip_space_and_comments();
    if (at_end()) return Token{.kind = Token::Kind::end, .text = {}, .line = line_};
    const int line = line_;
    const char c = source_[pos_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      const std::size_t start = pos_;
      while (!at_end() && (std::isalnum(static_cast<unsigned char>(source_[pos_])) || source_[pos_] == '_')) ++pos_;
      return Token{.kind = Token::Kind::name, .text = std::string(source_.substr(start, pos_ - start)), .line = line};
    }
    if (c == '"' || c == '\'') return Token{.kind = Token::Kind::string, .text = quoted(c), .line = line};
    if (c == '[' && long_bracket_level() >= 0) {
      return Token{.kind = Token::Kind::string, .text = long_bracket(), .line = line};
    }
    ++pos_;
    return Token{.kind = Token::Kind::symbol, .text = std::string(1, c), .line = line};
  }

 private:
  bool at_end() const { return pos_ >= source_.size(); }

  void advance() {
    if (source_[pos_] == '\n') ++line_;
    ++pos_;
  }

  void skip_space_and_comments() {
    while (!at_end()) {
      if (std::isspace(static_cast<unsigned char>(source_[pos_]))) {
        advance();
      } else if (source_.substr(pos_, 2) == "--") {
        pos_ += 2;
        if (!at_end() && source_[pos_] == '[' && long_bracket_level() >= 0) {
          long_bracket();
        } else {
          while (!at_end() && source_[pos_] != '\n') ++pos_;
        }
      } else {
        return;
      }
    }
  }

  // At '[': the level of a long bracket opening here ([[ is 0, [=[ is 1), or -1.
  int long_bracket_level() const {
    std::size_t p = pos_ + 1;
    int level = 0;
    while (p < source_.size() && source_[p] == '=') ++p, ++level;
    return p < source_.size() && source_[p] == '[' ? level : -1;
  }

  std::string long_bracket() {
    const int level = long_bracket_level();
    pos_ += static_cast<std::size_t>(level) + 2;
    if (!at_end() && source_[pos_] == '\n') advance();  // Lua drops a first newline
    const std::string close = "]" + std::string(static_cast<std::size_t>(level), '=') + "]";
    std::string value;
    while (!at_end() && source_.substr(pos_, close.size()) != close) {
      value.push_back(source_[pos_]);
      advance();
    }
    pos_ = at_end() ? pos_ : pos_ + close.size();
    return value;
  }

  std::string quoted(char quote) {
    ++pos_;
    std::string value;
    while (!at_end() && source_[pos_] != quote && source_[pos_] != '\n') {
      char c = source_[pos_++];
      if (c == '\\' && !at_end()) {
        const char escaped = source_[pos_++];
        switch (escaped) {
          case 'n': c = '\n'; break;
          case 't': c = '\t'; break;
          default: c = escaped; break;  // \\ \" \' and the rare rest, close enough for paths
        }
      }
      value.push_back(c);
    }
    if (!at_end() && source_[pos_] == quote) ++pos_;
    return value;
  }

  std::string_view source_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

bool is_symbol(const Token& token, char c) { return token.kind == Token::Kind::symbol && token.text[0] == c; }

std::vector<Token> tokenize(std::string_view lua_source) {
  std::vector<Token> tokens;
  Lexer lexer(lua_source);
  for (Token token = lexer.next(); token.kind != Token::Kind::end; token = lexer.next()) tokens.push_back(token);
  return tokens;
}

// The literal that is the whole first argument of the call whose name is at
// tokens[i]: f("x"), f("x", ...) or f "x".
const Token* literal_argument(const std::vector<Token>& tokens, std::size_t i) {
  std::size_t arg = i + 1;
  if (arg < tokens.size() && tokens[arg].kind == Token::Kind::string) return &tokens[arg];
  if (arg >= tokens.size() || !is_symbol(tokens[arg], '(')) return nullptr;
  ++arg;
  if (arg + 1 >= tokens.size() || tokens[arg].kind != Token::Kind::string) return nullptr;
  if (!is_symbol(tokens[arg + 1], ',') && !is_symbol(tokens[arg + 1], ')')) return nullptr;
  return &tokens[arg];
}

}  // namespace

ScannedUses scan_fixture_uses(std::string_view lua_source) {
  const std::vector<Token> tokens = tokenize(lua_source);
  ScannedUses uses;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Token& name = tokens[i];
    if (name.kind != Token::Kind::name) continue;
    const bool method = i > 0 && (is_symbol(tokens[i - 1], ':') || is_symbol(tokens[i - 1], '.'));
    const Token* literal = literal_argument(tokens, i);
    if (literal == nullptr) continue;
    if (name.text == "require" && !method) {
      uses.modules.push_back(ScannedDependency{.path = literal->text, .line = literal->line});
    } else if ((name.text == "vm_fixture" || name.text == "lab_fixture") && method) {
      uses.fixtures.push_back(ScannedDependency{.path = literal->text, .line = literal->line});
    }
  }
  return uses;
}

std::vector<ScannedDependency> scan_fixture_dependencies(std::string_view lua_source) {
  const std::vector<Token> tokens = tokenize(lua_source);

  std::vector<ScannedDependency> found;
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    const Token& name = tokens[i];
    if (name.kind != Token::Kind::name || (name.text != "push_file" && name.text != "depends_on_file")) continue;
    if (!is_symbol(tokens[i - 1], ':') && !is_symbol(tokens[i - 1], '.')) continue;
    std::size_t arg = i + 1;
    const bool parenthesised = arg < tokens.size() && is_symbol(tokens[arg], '(');
    if (parenthesised) ++arg;
    if (arg >= tokens.size() || tokens[arg].kind != Token::Kind::string) continue;
    const Token& path = tokens[arg];
    // The whole argument must be the literal: "build/" .. arch is not a path we know.
    if (parenthesised && (arg + 1 >= tokens.size() || (!is_symbol(tokens[arg + 1], ',') && !is_symbol(tokens[arg + 1], ')')))) {
      continue;
    }

    bool opted_out = false;
    if (name.text == "push_file" && parenthesised) {
      int depth = 1;
      for (std::size_t j = arg + 1; j < tokens.size() && depth > 0; ++j) {
        if (is_symbol(tokens[j], '(') || is_symbol(tokens[j], '{')) ++depth;
        if (is_symbol(tokens[j], ')') || is_symbol(tokens[j], '}')) --depth;
        if (j + 2 < tokens.size() && tokens[j].kind == Token::Kind::name && tokens[j].text == "auto_dep" &&
            is_symbol(tokens[j + 1], '=') && tokens[j + 2].kind == Token::Kind::name && tokens[j + 2].text == "false") {
          opted_out = true;
        }
      }
    }
    if (!opted_out) found.push_back(ScannedDependency{.path = path.text, .line = path.line});
  }
  return found;
}

}  // namespace provium
