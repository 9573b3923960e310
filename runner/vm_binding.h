// The VM userdata: vm:boot, run, read_file, write_file, shutdown, close,
// state, name, profile, cid.
#pragma once

#include "vm.h"

#include <lua.hpp>

#include <memory>

namespace provium::runner {

inline constexpr const char* kVmTypeName = "provium.Vm";

// Registers the metatable (once per state, under run_protected()).
void register_vm_type(lua_State* L);
void push_vm(lua_State* L, std::shared_ptr<Vm> vm);

}  // namespace provium::runner
