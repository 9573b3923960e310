#include "layer0_lua.h"

#include "lua_values.h"

#include <stdexcept>

namespace provium::runner {
namespace {

constexpr int kMaxSyscallArgs = 6;

std::vector<std::string> read_string_array(lua_State* L, int index, const std::string& what) {
  if (!lua_istable(L, index) || sequence_length(L, index) < 0) {
    throw std::invalid_argument(what + " must be an array of strings, got " + lua_type_name(L, index));
  }
  std::vector<std::string> out;
  const int n = sequence_length(L, index);
  for (int i = 1; i <= n; ++i) {
    lua_rawgeti(L, index, i);
    out.push_back(read_string(L, -1, what + "[" + std::to_string(i) + "]"));
    lua_pop(L, 1);
  }
  return out;
}

std::vector<std::int64_t> read_integer_array(lua_State* L, int index, const std::string& what) {
  if (!lua_istable(L, index) || sequence_length(L, index) < 0) {
    throw std::invalid_argument(what + " must be an array of integers, got " + lua_type_name(L, index));
  }
  std::vector<std::int64_t> out;
  const int n = sequence_length(L, index);
  for (int i = 1; i <= n; ++i) {
    lua_rawgeti(L, index, i);
    out.push_back(read_integer(L, -1, what + "[" + std::to_string(i) + "]"));
    lua_pop(L, 1);
  }
  return out;
}

}  // namespace

SyscallCall read_syscall_call(lua_State* L, int first, const std::string& context) {
  SyscallCall call;
  call.nr = read_integer(L, first, context + ": nr");
  const int top = lua_gettop(L);
  if (top >= first + 1 && lua_istable(L, first + 1)) {
    if (top > first + 1) throw std::invalid_argument(context + ": the table form takes no further arguments");
    const int table = first + 1;
    for_each_field(L, table, context + ": options", [&](const std::string& key) {
      const int value = lua_gettop(L);
      if (key == "args") call.args = read_integer_array(L, value, context + ": args");
      else if (key == "bufs") call.bufs = read_string_array(L, value, context + ": bufs");
      else if (key == "ptrs") {
        for (std::int64_t slot : read_integer_array(L, value, context + ": ptrs")) {
          if (slot < 0 || slot >= kMaxSyscallArgs) {
            throw std::invalid_argument(context + ": ptrs: slot " + std::to_string(slot) +
                                        " is not an argument slot (0-indexed, 0..5)");
          }
          call.ptrs.push_back(static_cast<std::uint8_t>(slot));
        }
      } else {
        throw std::invalid_argument(context + ": unknown option `" + key + "` (known: args, bufs, ptrs)");
      }
    });
    if (call.ptrs.size() > call.bufs.size()) {
      throw std::invalid_argument(context + ": " + std::to_string(call.ptrs.size()) + " ptrs for " +
                                  std::to_string(call.bufs.size()) + " bufs (ptrs[i] places bufs[i])");
    }
  } else {
    for (int i = first + 1; i <= top; ++i) {
      call.args.push_back(read_integer(L, i, context + ": argument " + std::to_string(i - first)));
    }
  }
  if (call.args.size() > kMaxSyscallArgs) {
    throw std::invalid_argument(context + ": at most 6 arguments, got " + std::to_string(call.args.size()));
  }
  return call;
}

IoctlCall read_ioctl_call(lua_State* L, int first, const std::string& context) {
  IoctlCall call;
  const std::int64_t fd = read_integer(L, first, context + ": fd");
  if (fd < 0 || fd > INT32_MAX) throw std::invalid_argument(context + ": fd out of range: " + std::to_string(fd));
  call.fd = static_cast<std::int32_t>(fd);
  call.cmd = static_cast<std::uint64_t>(read_integer(L, first + 1, context + ": cmd"));
  const int data = first + 2;
  if (lua_type(L, data) == LUA_TSTRING) call.data = read_string(L, data, context + ": data");
  else if (lua_isinteger(L, data)) call.arg = static_cast<std::uint64_t>(lua_tointeger(L, data));
  else if (!lua_isnoneornil(L, data)) {
    throw std::invalid_argument(context + ": data must be a byte string or an integer argument, got " +
                                lua_type_name(L, data));
  }
  const int opts = first + 3;
  if (!lua_isnoneornil(L, opts)) {
    if (!lua_istable(L, opts)) throw std::invalid_argument(context + ": options must be a table");
    for_each_field(L, opts, context + ": options", [&](const std::string& key) {
      const int value = lua_gettop(L);
      if (key == "bufs") call.bufs = read_string_array(L, value, context + ": bufs");
      else if (key == "ptr_offsets") {
        for (std::int64_t offset : read_integer_array(L, value, context + ": ptr_offsets")) {
          if (offset < 0 || offset > UINT32_MAX) throw std::invalid_argument(context + ": ptr_offsets out of range");
          call.ptr_offsets.push_back(static_cast<std::uint32_t>(offset));
        }
      } else {
        throw std::invalid_argument(context + ": unknown option `" + key + "` (known: bufs, ptr_offsets)");
      }
    });
  }
  if (!call.bufs.empty() && !call.data) {
    throw std::invalid_argument(context + ": bufs need `data`: their addresses are stored into it");
  }
  if (call.ptr_offsets.size() != call.bufs.size()) {
    throw std::invalid_argument(context + ": " + std::to_string(call.ptr_offsets.size()) + " ptr_offsets for " +
                                std::to_string(call.bufs.size()) + " bufs (one each)");
  }
  return call;
}

void push_layer0_result(lua_State* L, const Layer0Result& result) {
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, result.ret);
  lua_setfield(L, -2, "ret");
  lua_pushinteger(L, result.ret);
  lua_setfield(L, -2, "result");
  lua_pushinteger(L, result.error_number);
  lua_setfield(L, -2, "errno");
  lua_createtable(L, static_cast<int>(result.out_bufs.size()), 0);
  lua_Integer position = 0;
  for (const std::string& buf : result.out_bufs) {
    lua_pushlstring(L, buf.data(), buf.size());
    lua_rawseti(L, -2, ++position);
  }
  lua_setfield(L, -2, "out_bufs");
  if (result.out_data) {
    lua_pushlstring(L, result.out_data->data(), result.out_data->size());
    lua_setfield(L, -2, "out_data");
  }
}

}  // namespace provium::runner
