#include "vm_spec_lua.h"

#include "lua_values.h"

#include <size.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace provium::runner {

std::uint64_t read_byte_size(lua_State* L, const std::string& what, bool allow_zero) {
  if (lua_type(L, -1) == LUA_TSTRING) {
    try {
      return parse_size(lua_tostring(L, -1));
    } catch (const std::invalid_argument& error) {
      throw std::invalid_argument(what + ": " + error.what());
    }
  }
  const std::int64_t bytes = read_integer(L, -1, what + " (bytes, or a size string like \"512M\")");
  if (allow_zero && bytes < 0) {
    throw std::invalid_argument(what + " must not be negative, got " + std::to_string(bytes));
  }
  if (!allow_zero && bytes <= 0) throw std::invalid_argument(what + " must be positive, got " + std::to_string(bytes));
  return static_cast<std::uint64_t>(bytes);
}

namespace {

constexpr double kNanosPerSecond = 1e9;

std::uint32_t read_cpus(lua_State* L, const std::string& what) {
  const std::int64_t cpus = read_integer(L, -1, what);
  if (cpus <= 0 || cpus > std::numeric_limits<std::uint32_t>::max()) {
    throw std::invalid_argument(what + " must be a positive integer, got " + std::to_string(cpus));
  }
  return static_cast<std::uint32_t>(cpus);
}

std::int64_t read_initial_time(lua_State* L, const std::string& what) {
  if (lua_isinteger(L, -1)) {
    const lua_Integer seconds = lua_tointeger(L, -1);
    if (seconds < 0 || seconds > std::numeric_limits<std::int64_t>::max() / 1'000'000'000) {
      throw std::invalid_argument(what + " is out of range: " + std::to_string(seconds));
    }
    return seconds * 1'000'000'000;
  }
  if (lua_type(L, -1) != LUA_TNUMBER) {
    throw std::invalid_argument(what + " must be seconds since the epoch, got " + lua_type_name(L, -1));
  }
  const double seconds = lua_tonumber(L, -1);
  if (!std::isfinite(seconds)) {
    throw std::invalid_argument(what + " must be a finite number (got " + (std::isnan(seconds) ? "NaN" : "inf") + ")");
  }
  if (seconds < 0 || seconds * kNanosPerSecond > 9.2e18) throw std::invalid_argument(what + " is out of range");
  // Whole seconds and the fraction apart: seconds * 1e9 in one double would
  // round away the nanoseconds (1700000000.25 would become ...249999872).
  const double whole = std::floor(seconds);
  return static_cast<std::int64_t>(whole) * 1'000'000'000 + std::llround((seconds - whole) * kNanosPerSecond);
}

std::vector<GuestFile> read_files(lua_State* L, const std::string& what) {
  if (!lua_istable(L, -1)) throw std::invalid_argument(what + " must be an array of {path=, content=}");
  const int count = sequence_length(L, -1);
  if (count < 0) throw std::invalid_argument(what + " must be an array of {path=, content=}");
  std::vector<GuestFile> files;
  for (int i = 1; i <= count; ++i) {
    const std::string item = what + "[" + std::to_string(i) + "]";
    lua_rawgeti(L, -1, i);
    if (!lua_istable(L, -1)) throw std::invalid_argument(item + " must be a table {path=, content=}");
    GuestFile file;
    for_each_field(L, -1, item, [&](const std::string& key) {
      if (key == "path") file.path = read_text(L, -1, item + ".path");
      else if (key == "content") file.content = read_string(L, -1, item + ".content");
      else throw std::invalid_argument(item + ": unknown field `" + key + "` (expected path, content)");
    });
    if (file.path.empty()) throw std::invalid_argument(item + ".path is missing");
    files.push_back(std::move(file));
    lua_pop(L, 1);
  }
  return files;
}

}  // namespace

VmSpec read_vm_spec(lua_State* L, int index, const std::string& context) {
  VmSpec spec;
  if (lua_isnoneornil(L, index)) return spec;
  if (!lua_istable(L, index)) {
    throw std::invalid_argument(context + ": options must be a table, got " + lua_type_name(L, index));
  }
  for_each_field(L, index, context + ": options", [&](const std::string& key) {
    const std::string what = context + ": " + key;
    if (key == "memory") spec.memory_bytes = read_byte_size(L, what, /*allow_zero=*/false);
    else if (key == "cpus") spec.cpus = read_cpus(L, what);
    else if (key == "kernel_cmdline") spec.kernel_cmdline = read_text(L, -1, what);
    else if (key == "rng_seed") spec.rng_seed = static_cast<std::uint64_t>(read_integer(L, -1, what));
    else if (key == "initial_time") spec.initial_time_ns = read_initial_time(L, what);
    else if (key == "files") spec.files = read_files(L, what);
    else {
      throw std::invalid_argument(context + ": unknown option `" + key +
                                  "` (known: memory, cpus, kernel_cmdline, rng_seed, initial_time, files)");
    }
  });
  return spec;
}

}  // namespace provium::runner
