#include "guest_command_lua.h"

#include "lua_values.h"

#include <stdexcept>

namespace provium::runner {
namespace {

std::string read_word(lua_State* L, int index, const std::string& what) {
  // Numbers are fine as arguments (`vm:run("sleep", {1})`).
  if (lua_type(L, index) == LUA_TNUMBER) {
    lua_pushvalue(L, index);
    std::string word = lua_tostring(L, -1);
    lua_pop(L, 1);
    return word;
  }
  return read_text(L, index, what);
}

std::vector<std::string> read_words(lua_State* L, int index, const std::string& what) {
  index = lua_absindex(L, index);
  const int count = sequence_length(L, index);
  if (count < 0) throw std::invalid_argument(what + " must be an array of strings");
  std::vector<std::string> words;
  for (int i = 1; i <= count; ++i) {
    lua_rawgeti(L, index, i);
    words.push_back(read_word(L, -1, what + "[" + std::to_string(i) + "]"));
    lua_pop(L, 1);
  }
  return words;
}

std::string display_argv(const std::vector<std::string>& argv) {
  std::string shown;
  for (const auto& word : argv) {
    if (!shown.empty()) shown += ' ';
    const bool plain = !word.empty() && word.find_first_of(" \t\n'\"\\$`") == std::string::npos;
    shown += plain ? word : "'" + word + "'";
  }
  return shown;
}

void read_env(lua_State* L, GuestCommand& command, const std::string& what) {
  if (!lua_istable(L, -1)) throw std::invalid_argument(what + " must be a table of NAME = value");
  for_each_field(L, -1, what, [&](const std::string& name) {
    if (name.empty() || name.find_first_of(std::string("=\0", 2)) != std::string::npos) {
      throw std::invalid_argument(what + ": bad variable name `" + name + "`");
    }
    command.env.emplace_back(name, read_word(L, -1, what + "." + name));
  });
}

void read_timeout_ms(lua_State* L, GuestCommand& command, const std::string& what) {
  const std::int64_t ms = read_integer(L, -1, what);
  if (ms < 0) throw std::invalid_argument(what + " must not be negative, got " + std::to_string(ms));
  command.timeout = Millis(ms);
}

void read_options(lua_State* L, int index, GuestCommand& command, bool& has_args, const std::string& context) {
  bool has_timeout = false;
  for_each_field(L, index, context + ": options", [&](const std::string& key) {
    const std::string what = context + ": " + key;
    if (key == "args") {
      command.argv = read_words(L, -1, what);
      has_args = true;
    } else if (key == "env") {
      read_env(L, command, what);
    } else if (key == "env_clear") {
      if (!lua_isboolean(L, -1)) throw std::invalid_argument(what + " must be a boolean");
      command.env_clear = lua_toboolean(L, -1) != 0;
    } else if (key == "cwd") {
      command.cwd = read_text(L, -1, what);
    } else if (key == "stdin") {
      command.stdin_data = read_string(L, -1, what);
    } else if (key == "timeout" || key == "timeout_ms") {
      if (has_timeout) throw std::invalid_argument(context + ": give either timeout or timeout_ms, not both");
      has_timeout = true;
      if (key == "timeout") {
        try {
          command.timeout = read_duration(L, -1, "timeout");
        } catch (const std::invalid_argument& error) {
          throw std::invalid_argument(context + ": " + error.what());
        }
      } else {
        read_timeout_ms(L, command, what);
      }
    } else {
      throw std::invalid_argument(context + ": unknown option `" + key +
                                  "` (known: args, env, env_clear, cwd, stdin, timeout, timeout_ms)");
    }
  });
}

// True if the table has any key that is not a positive integer.
bool has_named_keys(lua_State* L, int index) {
  index = lua_absindex(L, index);
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1) {
      lua_pop(L, 1);
      return true;
    }
  }
  return false;
}

}  // namespace

GuestCommand read_guest_command(lua_State* L, int index, const std::string& context) {
  GuestCommand command;
  const int extra = index + 1;
  std::vector<std::string> program;
  bool shell = false;
  if (lua_type(L, index) == LUA_TSTRING) {
    program = {read_text(L, index, context + ": command")};
    shell = true;
  } else if (lua_istable(L, index)) {
    program = read_words(L, index, context + ": argv");
    if (program.empty()) throw std::invalid_argument(context + ": argv is empty");
  } else {
    throw std::invalid_argument(context + ": expected a command string or an argv array, got " +
                                lua_type_name(L, index));
  }

  bool has_args = false;
  if (lua_istable(L, extra)) {
    if (has_named_keys(L, extra)) {
      if (lua_rawlen(L, extra) > 0) {
        throw std::invalid_argument(context + ": mixed array entries with named options are not allowed; " +
                                    "put positional arguments in `args=`");
      }
      read_options(L, extra, command, has_args, context);
    } else {
      command.argv = read_words(L, extra, context + ": args");
      has_args = true;
    }
  } else if (!lua_isnoneornil(L, extra)) {
    throw std::invalid_argument(context + ": second argument must be an args array or an options table, got " +
                                lua_type_name(L, extra));
  }

  if (shell && !has_args) {
    command.display = program.front();
    command.argv = {"/bin/sh", "-c", program.front()};
    return command;
  }
  if (has_args && program.size() > 1) {
    throw std::invalid_argument(context + ": give the arguments either in the argv array or in args, not both");
  }
  std::vector<std::string> argv = program;
  argv.insert(argv.end(), command.argv.begin(), command.argv.end());
  command.argv = std::move(argv);
  command.display = display_argv(command.argv);
  return command;
}

}  // namespace provium::runner
