// The Bridge and Nic userdata (docs/networking.md): provium:bridge(name),
// bridge:attach/partition/add_latency/..., bridge:nic(vm), vm:nic(name).
#pragma once

#include "lab.h"

#include <lua.hpp>

namespace provium::runner {

inline constexpr const char* kBridgeTypeName = "provium.Bridge";
inline constexpr const char* kNicTypeName = "provium.Nic";

// Registers both metatables (once per state, under run_protected()).
void register_bridge_types(lua_State* L);
void push_bridge(lua_State* L, std::shared_ptr<Bridge> bridge);
// provium:bridge(name [, opts]) and vm:nic(name), as Lua C functions; the
// Lab comes from the registry (install_provium_global).
int vm_nic(lua_State* L);

}  // namespace provium::runner
