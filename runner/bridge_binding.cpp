#include "bridge_binding.h"

#include "capture_stream_source.h"
#include "guest_stream.h"
#include "lab_binding.h"
#include "stream_binding.h"
#include "lua_guard.h"
#include "lua_userdata.h"
#include "lua_values.h"
#include "vm_binding.h"

#include <cmath>
#include <iostream>
#include <stdexcept>

namespace provium::runner {
namespace {

// One (bridge, vm) pair. `vm` is null for the bare-name form (graph-only).
struct Nic {
  std::shared_ptr<Bridge> bridge;
  std::string vm_name;
  std::shared_ptr<Vm> vm;
};

Bridge& self_bridge(lua_State* L, const char* method) {
  Bridge* bridge = test_shared<Bridge>(L, 1, kBridgeTypeName);
  if (bridge == nullptr) {
    throw std::invalid_argument(std::string("bridge:") + method + ": call it as bridge:" + method + "(...) with `:`");
  }
  return *bridge;
}

std::string where(const char* method) { return std::string("bridge:") + method; }

// A VM userdata or a bare name.
BridgeMemberRef read_member(lua_State* L, int index, const std::string& what) {
  if (auto vm = test_shared_owner<Vm>(L, index, kVmTypeName)) return vm;
  if (lua_type(L, index) == LUA_TSTRING) return std::string(lua_tostring(L, index));
  throw std::invalid_argument(what + ": expected a VM or a VM name, got " + lua_type_name(L, index));
}

std::string member_name(lua_State* L, int index, const std::string& what) {
  const BridgeMemberRef member = read_member(L, index, what);
  if (const auto* vm = std::get_if<std::shared_ptr<Vm>>(&member)) return (*vm)->name();
  return std::get<std::string>(member);
}

// {from=A, to=B}: both ends, which must be attached ("call bridge:attach first").
std::pair<std::string, std::string> read_direction(lua_State* L, Bridge& bridge, int index, const char* method,
                                                   bool need_attached = true) {
  lua_getfield(L, index, "from");
  const std::string from = member_name(L, -1, where(method) + ": from");
  lua_pop(L, 1);
  lua_getfield(L, index, "to");
  const std::string to = member_name(L, -1, where(method) + ": to");
  lua_pop(L, 1);
  if (need_attached) {
    for (const auto& end : {from, to}) {
      if (!bridge.is_member(end)) {
        throw std::runtime_error(where(method) + ": `" + end + "` is not attached to bridge `" + bridge.name() +
                                 "`; call bridge:attach first");
      }
    }
  }
  return {from, to};
}

double read_number_field(lua_State* L, int index, const char* field, const std::string& what) {
  lua_getfield(L, index, field);
  if (!lua_isnumber(L, -1)) {
    throw std::invalid_argument(what + ": `" + field + "` must be a number, got " + lua_type_name(L, -1));
  }
  const double value = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return value;
}

double read_number(lua_State* L, int index, const std::string& what) {
  if (!lua_isnumber(L, index)) throw std::invalid_argument(what + ": expected a number, got " + lua_type_name(L, index));
  return lua_tonumber(L, index);
}

void check_range(double value, double low, double high, const std::string& what) {
  if (!std::isfinite(value) || value < low || value > high) {
    throw std::invalid_argument(what + ": " + std::to_string(value) + " is out of range (" + std::to_string(low) +
                                " to " + std::to_string(high) + ")");
  }
}

int bridge_attach(lua_State* L) {
  Bridge& bridge = self_bridge(L, "attach");
  std::vector<BridgeMemberRef> members;
  if (lua_istable(L, 2) && !luaL_testudata(L, 2, kVmTypeName)) {
    const lua_Integer count = luaL_len(L, 2);
    for (lua_Integer i = 1; i <= count; ++i) {
      lua_geti(L, 2, i);
      members.push_back(read_member(L, -1, "bridge:attach: element " + std::to_string(i)));
      lua_pop(L, 1);
    }
  } else {
    members.push_back(read_member(L, 2, "bridge:attach"));
  }
  bridge.attach(members);
  lua_settop(L, 1);
  return 1;
}

int bridge_detach(lua_State* L) {
  Bridge& bridge = self_bridge(L, "detach");
  bridge.detach(read_member(L, 2, "bridge:detach"));
  return 0;
}

int bridge_members(lua_State* L) {
  const auto names = self_bridge(L, "members").members();
  lua_createtable(L, static_cast<int>(names.size()), 0);
  for (std::size_t i = 0; i < names.size(); ++i) {
    lua_pushstring(L, names[i].c_str());
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  return 1;
}

int bridge_name(lua_State* L) {
  lua_pushstring(L, self_bridge(L, "name").name().c_str());
  return 1;
}

int bridge_datapath(lua_State* L) {
  lua_pushstring(L, self_bridge(L, "datapath").datapath().c_str());
  return 1;
}

// partition(a, b) / partition({from=, to=}) and the unpartition twins.
int set_partition(lua_State* L, const char* method, bool on) {
  Bridge& bridge = self_bridge(L, method);
  if (lua_istable(L, 2) && !luaL_testudata(L, 2, kVmTypeName)) {
    const auto [from, to] = read_direction(L, bridge, 2, method, on);
    bridge.block(from, to, on);
  } else {
    const std::string a = member_name(L, 2, where(method));
    const std::string b = member_name(L, 3, where(method));
    bridge.block(a, b, on);
    bridge.block(b, a, on);
  }
  bridge.apply(method);
  return 0;
}

int bridge_partition(lua_State* L) { return set_partition(L, "partition", true); }
int bridge_unpartition(lua_State* L) { return set_partition(L, "unpartition", false); }

int bridge_partition_all(lua_State* L) {
  Bridge& bridge = self_bridge(L, "partition_all");
  bridge.partition_all();
  bridge.apply("partition_all");
  return 0;
}

int bridge_restore_all(lua_State* L) {
  Bridge& bridge = self_bridge(L, "restore_all");
  bridge.restore_all();
  bridge.apply("restore_all");
  return 0;
}

int bridge_is_partitioned(lua_State* L) {
  Bridge& bridge = self_bridge(L, "is_partitioned");
  lua_pushboolean(L, bridge.is_blocked(member_name(L, 2, "bridge:is_partitioned"),
                                       member_name(L, 3, "bridge:is_partitioned")));
  return 1;
}

int set_isolation(lua_State* L, const char* method, bool on) {
  Bridge& bridge = self_bridge(L, method);
  bridge.isolate(member_name(L, 2, where(method)), on);
  bridge.apply(method);
  return 0;
}

int bridge_isolate(lua_State* L) { return set_isolation(L, "isolate", true); }
int bridge_unisolate(lua_State* L) { return set_isolation(L, "unisolate", false); }

int bridge_is_isolated(lua_State* L) {
  Bridge& bridge = self_bridge(L, "is_isolated");
  lua_pushboolean(L, bridge.is_isolated(member_name(L, 2, "bridge:is_isolated")));
  return 1;
}

enum class Knob { latency, loss, bandwidth };

void set_knob(LinkImpairmentsSpec& spec, Knob knob, double value) {
  switch (knob) {
    case Knob::latency: spec.latency_ms = value; break;
    case Knob::loss: spec.loss_pct = value; break;
    case Knob::bandwidth: spec.bandwidth_bps = static_cast<std::uint64_t>(value); break;
  }
}

void check_knob(Knob knob, double value, const std::string& what) {
  switch (knob) {
    case Knob::latency: check_range(value, 0, 60'000, what + ": latency in ms"); break;
    case Knob::loss: check_range(value, 0, 100, what + ": drop rate in percent"); break;
    case Knob::bandwidth: check_range(value, 1000, 100e9, what + ": bandwidth in bits per second"); break;
  }
}

// The scalar (whole bridge) or directional-table form of one impairment.
int set_impairment(lua_State* L, const char* method, Knob knob, const char* field, bool directional_only) {
  Bridge& bridge = self_bridge(L, method);
  if (lua_istable(L, 2)) {
    const auto [from, to] = read_direction(L, bridge, 2, method);
    const double value = read_number_field(L, 2, field, where(method));
    check_knob(knob, value, where(method));
    set_knob(bridge.pair(from, to), knob, value);
  } else {
    if (directional_only) {
      throw std::invalid_argument(where(method) + ": expected a table {from=, to=, " + field + "=}");
    }
    const double value = read_number(L, 2, where(method));
    check_knob(knob, value, where(method));
    set_knob(bridge.whole(), knob, value);
  }
  bridge.apply(method);
  return 0;
}

int bridge_add_latency(lua_State* L) { return set_impairment(L, "add_latency", Knob::latency, "ms", false); }
int bridge_drop_rate(lua_State* L) { return set_impairment(L, "drop_rate", Knob::loss, "p", false); }
int bridge_bandwidth_limit(lua_State* L) { return set_impairment(L, "bandwidth_limit", Knob::bandwidth, "bps", false); }
int bridge_add_directional_latency(lua_State* L) {
  return set_impairment(L, "add_directional_latency", Knob::latency, "ms", true);
}
int bridge_directional_drop_rate(lua_State* L) {
  return set_impairment(L, "directional_drop_rate", Knob::loss, "p", true);
}

int bridge_reset(lua_State* L) {
  self_bridge(L, "reset").reset();
  return 0;
}

template <typename T>
int push_optional(lua_State* L, const std::optional<T>& value) {
  if (value) {
    lua_pushnumber(L, static_cast<lua_Number>(*value));
  } else {
    lua_pushnumber(L, 0);
  }
  return 1;
}

int bridge_latency_ms(lua_State* L) { return push_optional(L, self_bridge(L, "latency_ms").whole().latency_ms); }
int bridge_drop_rate_pct(lua_State* L) { return push_optional(L, self_bridge(L, "drop_rate_pct").whole().loss_pct); }
int bridge_bandwidth_bps(lua_State* L) {
  return push_optional(L, self_bridge(L, "bandwidth_bps").whole().bandwidth_bps);
}

void push_nic(lua_State* L, std::shared_ptr<Nic> nic) { push_shared(L, kNicTypeName, std::move(nic)); }

int bridge_nic(lua_State* L) {
  auto bridge = test_shared_owner<Bridge>(L, 1, kBridgeTypeName);
  if (!bridge) throw std::invalid_argument("bridge:nic: call it as bridge:nic(vm) with `:`");
  const BridgeMemberRef member = read_member(L, 2, "bridge:nic");
  auto nic = std::make_shared<Nic>();
  nic->bridge = bridge;
  if (const auto* vm = std::get_if<std::shared_ptr<Vm>>(&member)) {
    nic->vm = *vm;
    nic->vm_name = (*vm)->name();
  } else {
    nic->vm_name = std::get<std::string>(member);
  }
  push_nic(L, std::move(nic));
  return 1;
}

int bridge_route(lua_State* L) {
  Bridge& bridge = self_bridge(L, "route");
  auto add = [&](int index) {
    std::string name;
    if (auto* other = test_shared<Bridge>(L, index, kBridgeTypeName)) {
      name = other->name();
    } else {
      name = read_text(L, index, "bridge:route: bridge");
    }
    if (std::find(bridge.routes().begin(), bridge.routes().end(), name) == bridge.routes().end()) {
      bridge.routes().push_back(name);
    }
  };
  if (lua_istable(L, 2) && !luaL_testudata(L, 2, kBridgeTypeName)) {
    const lua_Integer count = luaL_len(L, 2);
    for (lua_Integer i = 1; i <= count; ++i) {
      lua_geti(L, 2, i);
      add(lua_gettop(L));
      lua_pop(L, 1);
    }
  } else {
    add(2);
  }
  if (!bridge.route_warned) {
    bridge.route_warned = true;
    std::cerr << "provium: warning: bridge:route() on `" << bridge.name()
              << "` only records the route; no traffic is routed between bridges yet\n";
  }
  return 0;
}

int bridge_routes(lua_State* L) {
  const auto& routes = self_bridge(L, "routes").routes();
  lua_createtable(L, static_cast<int>(routes.size()), 0);
  for (std::size_t i = 0; i < routes.size(); ++i) {
    lua_pushstring(L, routes[i].c_str());
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  return 1;
}

int bridge_enable_uplink(lua_State* L) {
  Bridge& bridge = self_bridge(L, "enable_uplink");
  try {
    bridge.backend().enable_uplink();
  } catch (const std::exception& error) {
    throw std::runtime_error(std::string("bridge:enable_uplink: ") + error.what());
  }
  return 0;
}

int bridge_disable_uplink(lua_State* L) {
  Bridge& bridge = self_bridge(L, "disable_uplink");
  try {
    bridge.backend().disable_uplink();
  } catch (const std::exception& error) {
    throw std::runtime_error(std::string("bridge:disable_uplink: ") + error.what());
  }
  return 0;
}

// A Capture stream over the supervisor's pcap pipe.
void push_capture(lua_State* L, Bridge& bridge, const std::string& vm, const std::string& method) {
  Lab* lab = installed_lab(L);
  if (lab == nullptr) throw std::runtime_error(method + ": no lab");
  kj::AutoCloseFd fd;
  try {
    fd = bridge.capture(vm);
  } catch (const std::exception& error) {
    throw std::runtime_error(method + ": " + error.what());
  }
  auto source = std::make_unique<CaptureStreamSource>(kj::mv(fd), lab->clock());
  const std::string owner = vm.empty() ? "bridge `" + bridge.name() + "`" : "vm `" + vm + "`";
  push_stream(L, std::make_shared<GuestStream>(owner, std::move(source), "capture", bridge.name()));
}

int bridge_capture(lua_State* L) {
  push_capture(L, self_bridge(L, "capture"), "", "bridge:capture");
  return 1;
}

int bridge_close(lua_State* L) {
  if (auto error = self_bridge(L, "close").close()) throw std::runtime_error(*error);
  return 0;
}

int bridge_equal(lua_State* L) {
  Bridge* a = test_shared<Bridge>(L, 1, kBridgeTypeName);
  Bridge* b = test_shared<Bridge>(L, 2, kBridgeTypeName);
  lua_pushboolean(L, a != nullptr && a == b);
  return 1;
}

int bridge_tostring(lua_State* L) {
  Bridge* bridge = test_shared<Bridge>(L, 1, kBridgeTypeName);
  if (bridge == nullptr) {
    lua_pushliteral(L, "bridge (released)");
  } else {
    lua_pushfstring(L, "bridge `%s`", bridge->name().c_str());
  }
  return 1;
}

// --- Nic ---

Nic& self_nic(lua_State* L, const char* method) {
  Nic* nic = test_shared<Nic>(L, 1, kNicTypeName);
  if (nic == nullptr) {
    throw std::invalid_argument(std::string("nic:") + method + ": call it as nic:" + method + "(...) with `:`");
  }
  return *nic;
}

// The NIC is wired: a VM handle, attached, booted.
void require_wired(const Nic& nic, const char* method) {
  if (!nic.bridge->is_wired(nic.vm_name) || !nic.vm || nic.vm->state() != VmState::booted) {
    throw std::runtime_error(std::string("nic:") + method + ": vm `" + nic.vm_name + "` has no NIC on bridge `" +
                             nic.bridge->name() + "` (not attached, or not booted?). Boot it and call " +
                             "bridge:attach first.");
  }
}

int nic_counters(lua_State* L) {
  Nic& nic = self_nic(L, "counters");
  NicCountersValue counters;
  if (nic.bridge->is_wired(nic.vm_name)) {
    try {
      counters = nic.bridge->counters(nic.vm_name);
    } catch (const std::exception& error) {
      throw std::runtime_error(std::string("nic:counters: ") + error.what());
    }
  }
  lua_createtable(L, 0, 5);
  const std::pair<const char*, std::uint64_t> fields[] = {{"rx_bytes", counters.rx_bytes},
                                                          {"tx_bytes", counters.tx_bytes},
                                                          {"rx_packets", counters.rx_packets},
                                                          {"tx_packets", counters.tx_packets},
                                                          {"errors", counters.errors}};
  for (const auto& [name, value] : fields) {
    lua_pushinteger(L, static_cast<lua_Integer>(value));
    lua_setfield(L, -2, name);
  }
  return 1;
}

int set_nic_link(lua_State* L, const char* method, bool up) {
  Nic& nic = self_nic(L, method);
  if (!nic.vm) return 0;  // graph-only: nothing to drive
  require_wired(nic, method);
  try {
    nic.bridge->set_link(nic.vm_name, up);
  } catch (const std::exception& error) {
    throw std::runtime_error(std::string("nic:") + method + ": " + error.what());
  }
  return 0;
}

int nic_disconnect(lua_State* L) { return set_nic_link(L, "disconnect", false); }
int nic_reconnect(lua_State* L) { return set_nic_link(L, "reconnect", true); }

int nic_capture(lua_State* L) {
  Nic& nic = self_nic(L, "capture");
  require_wired(nic, "capture");
  push_capture(L, *nic.bridge, nic.vm_name, "nic:capture");
  return 1;
}

int nic_vm_name(lua_State* L) {
  lua_pushstring(L, self_nic(L, "vm_name").vm_name.c_str());
  return 1;
}

int nic_bridge(lua_State* L) {
  lua_pushstring(L, self_nic(L, "bridge").bridge->name().c_str());
  return 1;
}

int nic_tostring(lua_State* L) {
  Nic* nic = test_shared<Nic>(L, 1, kNicTypeName);
  if (nic == nullptr) {
    lua_pushliteral(L, "nic (released)");
  } else {
    lua_pushfstring(L, "nic of vm `%s` on bridge `%s`", nic->vm_name.c_str(), nic->bridge->name().c_str());
  }
  return 1;
}

constexpr luaL_Reg kBridgeMethods[] = {
    {"attach", lua_entry<bridge_attach>},
    {"detach", lua_entry<bridge_detach>},
    {"members", lua_entry<bridge_members>},
    {"name", lua_entry<bridge_name>},
    {"datapath", lua_entry<bridge_datapath>},
    {"partition", lua_entry<bridge_partition>},
    {"unpartition", lua_entry<bridge_unpartition>},
    {"partition_all", lua_entry<bridge_partition_all>},
    {"restore_all", lua_entry<bridge_restore_all>},
    {"is_partitioned", lua_entry<bridge_is_partitioned>},
    {"isolate", lua_entry<bridge_isolate>},
    {"unisolate", lua_entry<bridge_unisolate>},
    {"is_isolated", lua_entry<bridge_is_isolated>},
    {"add_latency", lua_entry<bridge_add_latency>},
    {"drop_rate", lua_entry<bridge_drop_rate>},
    {"bandwidth_limit", lua_entry<bridge_bandwidth_limit>},
    {"add_directional_latency", lua_entry<bridge_add_directional_latency>},
    {"directional_drop_rate", lua_entry<bridge_directional_drop_rate>},
    {"reset", lua_entry<bridge_reset>},
    {"latency_ms", lua_entry<bridge_latency_ms>},
    {"drop_rate_pct", lua_entry<bridge_drop_rate_pct>},
    {"bandwidth_bps", lua_entry<bridge_bandwidth_bps>},
    {"nic", lua_entry<bridge_nic>},
    {"route", lua_entry<bridge_route>},
    {"routes", lua_entry<bridge_routes>},
    {"enable_uplink", lua_entry<bridge_enable_uplink>},
    {"disable_uplink", lua_entry<bridge_disable_uplink>},
    {"capture", lua_entry<bridge_capture>},
    {"close", lua_entry<bridge_close>},
    {nullptr, nullptr},
};

constexpr luaL_Reg kNicMethods[] = {
    {"counters", lua_entry<nic_counters>},
    {"disconnect", lua_entry<nic_disconnect>},
    {"reconnect", lua_entry<nic_reconnect>},
    {"capture", lua_entry<nic_capture>},
    {"vm_name", lua_entry<nic_vm_name>},
    {"bridge", lua_entry<nic_bridge>},
    {nullptr, nullptr},
};

}  // namespace

void register_bridge_types(lua_State* L) {
  new_shared_type<Bridge>(L, kBridgeTypeName, kBridgeMethods);
  lua_pushcfunction(L, lua_entry<bridge_tostring>);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, lua_entry<bridge_equal>);
  lua_setfield(L, -2, "__eq");
  lua_pop(L, 1);
  new_shared_type<Nic>(L, kNicTypeName, kNicMethods);
  lua_pushcfunction(L, lua_entry<nic_tostring>);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

void push_bridge(lua_State* L, std::shared_ptr<Bridge> bridge) {
  push_shared(L, kBridgeTypeName, std::move(bridge));
}

int vm_nic(lua_State* L) {
  auto vm = test_shared_owner<Vm>(L, 1, kVmTypeName);
  if (!vm) throw std::invalid_argument("vm:nic: call it as vm:nic(name) with `:`");
  const std::string name = read_text(L, 2, "vm:nic: bridge or interface name");
  Lab* lab = installed_lab(L);
  if (lab == nullptr) throw std::runtime_error("vm:nic: no lab");
  std::shared_ptr<Bridge> bridge;
  if (name.rfind("eth", 0) == 0 && name.size() > 3 && name.find_first_not_of("0123456789", 3) == std::string::npos) {
    const auto bridges = lab->bridges_of(vm->name());
    const std::size_t index = std::stoul(name.substr(3));
    if (index >= bridges.size()) {
      throw std::runtime_error("vm:nic: vm `" + vm->name() + "` has no " + name + " (it is on " +
                               std::to_string(bridges.size()) + " bridges)");
    }
    bridge = bridges[index];
  } else {
    // By the bridge's full name first, then by the name its lab knows it by.
    for (const auto& candidate : lab->bridges_of(vm->name())) {
      if (candidate->name() == name) bridge = candidate;
    }
    for (const auto& candidate : lab->bridges_of(vm->name())) {
      if (!bridge && lab->declared_name(candidate.get()) == name) bridge = candidate;
    }
    if (!bridge) {
      throw std::runtime_error("vm:nic: vm `" + vm->name() + "` is not attached to a bridge named `" + name + "`");
    }
  }
  auto nic = std::make_shared<Nic>();
  nic->bridge = bridge;
  nic->vm = vm;
  nic->vm_name = vm->name();
  push_nic(L, std::move(nic));
  return 1;
}

}  // namespace provium::runner
