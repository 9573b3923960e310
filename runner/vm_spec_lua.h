// Boot options from a Lua table: {memory, cpus, kernel_cmdline, rng_seed,
// initial_time, files = {{path=, content=}}}.
#pragma once

#include "vm_spec.h"

#include <lua.hpp>

#include <string>

namespace provium::runner {

// `context` prefixes errors, e.g. "provium:vm: `a`". A nil/none value gives
// an empty spec. Throws std::invalid_argument.
VmSpec read_vm_spec(lua_State* L, int index, const std::string& context);

// A size at the top of the stack: bytes, or a string like "512M" / "2G".
// Throws std::invalid_argument naming `what`; zero only with `allow_zero`.
std::uint64_t read_byte_size(lua_State* L, const std::string& what, bool allow_zero);

}  // namespace provium::runner
