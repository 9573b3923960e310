#include "signal_names.h"

#include "lua_values.h"

#include <array>
#include <cctype>
#include <csignal>
#include <stdexcept>
#include <utility>

namespace provium::runner {
namespace {

// The last Linux real-time signal; numbers above it are no signal.
constexpr int kMaxSignal = 64;

constexpr std::array<std::pair<std::string_view, int>, 13> kNames = {{
    {"term", SIGTERM},
    {"kill", SIGKILL},
    {"int", SIGINT},
    {"hup", SIGHUP},
    {"quit", SIGQUIT},
    {"stop", SIGSTOP},
    {"cont", SIGCONT},
    {"usr1", SIGUSR1},
    {"usr2", SIGUSR2},
    {"alrm", SIGALRM},
    {"pipe", SIGPIPE},
    {"chld", SIGCHLD},
    {"winch", SIGWINCH},
}};

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<int> signal_by_name(std::string_view name) {
  std::string key = lowered(name);
  if (key.rfind("sig", 0) == 0) key.erase(0, 3);
  for (const auto& [known, number] : kNames) {
    if (key == known || key == std::to_string(number)) return number;
  }
  return std::nullopt;
}

int read_signal(lua_State* L, int index, const std::string& context) {
  if (lua_isnoneornil(L, index)) return SIGTERM;
  if (lua_type(L, index) == LUA_TSTRING) {
    const std::string name = lua_tostring(L, index);
    if (auto number = signal_by_name(name)) return *number;
    throw std::invalid_argument(context + ": unknown signal name `" + name +
                                "` (known: term, kill, int, hup, quit, stop, cont, usr1, usr2, alrm, pipe, chld, "
                                "winch, with or without a sig prefix, or a number)");
  }
  if (lua_type(L, index) == LUA_TNUMBER) {
    const std::int64_t number = read_integer(L, index, context + ": signal");
    if (number < 1 || number > kMaxSignal) {
      throw std::invalid_argument(context + ": signal number must be in 1.." + std::to_string(kMaxSignal) + ", got " +
                                  std::to_string(number));
    }
    return static_cast<int>(number);
  }
  throw std::invalid_argument(context + ": expected a signal name or number, got " + lua_type_name(L, index));
}

}  // namespace provium::runner
