#include "lab_binding.h"

#include "bridge_binding.h"
#include "lab_snapshot.h"
#include "snapshot_binding.h"

#include "lua_call_site.h"
#include "lua_guard.h"
#include "lua_userdata.h"
#include "lua_values.h"
#include "vm_binding.h"
#include "vm_spec_lua.h"


#include <array>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

namespace provium::runner {
namespace {

constexpr const char* kLabTypeName = "provium.Lab";
constexpr const char* kLabRegistryKey = "provium.lab";
constexpr int kTimeoutSlot = 1;
constexpr int kResetSlot = 2;
constexpr Millis kDefaultBarrierTimeout{60'000};

// A Lab userdata. The `provium` global has no node of its own: it stands for
// whatever scope is current (lab.h), so code at file scope and in a test
// reaches the right one through the same global.
struct LabHandle {
  std::shared_ptr<LabNode> node;
};

Lab& lab_of(lua_State* L) { return *static_cast<Lab*>(lua_touserdata(L, lua_upvalueindex(1))); }

LabHandle* test_handle(lua_State* L, int index) {
  return static_cast<LabHandle*>(luaL_testudata(L, index, kLabTypeName));
}

std::shared_ptr<LabNode> node_of(Lab& lab, const LabHandle& handle) {
  return handle.node ? handle.node : lab.current();
}

// The lab a method was called on; `method` names it in the error for
// provium.vm(...) instead of provium:vm(...).
std::shared_ptr<LabNode> self_node(lua_State* L, const char* method) {
  LabHandle* handle = test_handle(L, 1);
  if (handle == nullptr) {
    throw std::invalid_argument(std::string("lab:") + method + ": call it as lab:" + method + "(...) with `:`");
  }
  return node_of(lab_of(L), *handle);
}

// "provium:vm" for the global, "lab `dc1`:vm" for a sub-lab.
std::string method_name(lua_State* L, const LabNode& node, const char* method) {
  const LabHandle* handle = test_handle(L, 1);
  if (handle != nullptr && !handle->node) return std::string("provium:") + method;
  return "lab `" + node.name() + "`:" + method;
}

void push_lab(lua_State* L, std::shared_ptr<LabNode> node) {
  auto* memory = static_cast<LabHandle*>(lua_newuserdatauv(L, sizeof(LabHandle), 0));
  new (memory) LabHandle{std::move(node)};
  luaL_setmetatable(L, kLabTypeName);
}

std::string call_site(lua_State* L) {
  if (const auto site = test_code_call_site(L)) return site->file + ":" + std::to_string(site->line);
  luaL_where(L, 1);
  std::string where = lua_tostring(L, -1);
  lua_pop(L, 1);
  while (!where.empty() && (where.back() == ' ' || where.back() == ':')) where.pop_back();
  return where.empty() ? "?" : where;
}

int lab_vm(lua_State* L) {
  auto node = self_node(L, "vm");
  const std::string what = method_name(L, *node, "vm");
  const std::string name = read_text(L, 2, what + ": name");
  if (lua_isnoneornil(L, 3) && lua_isnoneornil(L, 4)) {
    auto vm = node->find_vm(name);
    if (!vm) throw std::runtime_error(what + ": no VM named `" + name + "` in scope");
    push_vm(L, std::move(vm));
    return 1;
  }
  const std::string profile = read_text(L, 3, what + ": `" + name + "`: profile");
  const VmSpec spec = read_vm_spec(L, 4, what + ": `" + name + "`");
  push_vm(L, lab_of(L).create_vm(*node, name, profile, spec, what));
  return 1;
}

int lab_bridge_method(lua_State* L) {
  auto node = self_node(L, "bridge");
  const std::string what = method_name(L, *node, "bridge");
  const std::string name = read_text(L, 2, what + ": name");
  if (!lua_isnoneornil(L, 3) && !lua_istable(L, 3)) {
    throw std::invalid_argument(what + ": `" + name + "`: options must be a table, got " + lua_type_name(L, 3));
  }
  push_bridge(L, lab_of(L).bridge(*node, name, what));
  return 1;
}

int lab_lab(lua_State* L) {
  auto node = self_node(L, "lab");
  const std::string what = method_name(L, *node, "lab");
  std::string name;
  if (!lua_isnoneornil(L, 2)) name = read_text(L, 2, what + ": name");
  else if (lua_gettop(L) >= 2) throw std::invalid_argument(what + ": name must be a string (or left out)");
  push_lab(L, lab_of(L).create_sub_lab(*node, name, what));
  return 1;
}

int lab_name(lua_State* L) {
  auto node = self_node(L, "name");
  lua_pushstring(L, node->name().c_str());
  return 1;
}

// The resource at `index` as a member (name left for the lab to fill in).
LabMember member_at(lua_State* L, int index, const std::string& what) {
  if (auto vm = test_shared_owner<Vm>(L, index, kVmTypeName)) return {MemberKind::vm, "", vm, nullptr, nullptr};
  if (auto bridge = test_shared_owner<Bridge>(L, index, kBridgeTypeName)) {
    return {MemberKind::bridge, "", nullptr, bridge, nullptr};
  }
  if (LabHandle* handle = test_handle(L, index); handle != nullptr && handle->node) {
    return {MemberKind::sub_lab, "", nullptr, nullptr, handle->node};
  }
  throw std::invalid_argument(what + " must be a VM, a bridge or a sub-lab, got " + lua_type_name(L, index));
}

int lab_include(lua_State* L) {
  auto node = self_node(L, "include");
  const std::string what = method_name(L, *node, "include");
  Lab& lab = lab_of(L);
  if (lua_istable(L, 2)) {
    const int count = sequence_length(L, 2);
    if (count < 0) throw std::invalid_argument(what + ": expected an array of VMs, bridges or sub-labs");
    std::vector<LabMember> members;
    for (int i = 1; i <= count; ++i) {
      lua_rawgeti(L, 2, i);
      members.push_back(member_at(L, -1, what + ": item " + std::to_string(i)));
      lua_pop(L, 1);
    }
    lab.include(*node, members, what);
  } else {
    lab.include(*node, {member_at(L, 2, what + ": argument")}, what);
  }
  lua_settop(L, 1);
  return 1;
}

int lab_remove(lua_State* L) {
  auto node = self_node(L, "remove");
  const std::string what = method_name(L, *node, "remove");
  if (lua_type(L, 2) == LUA_TSTRING) {
    const std::string name = lua_tostring(L, 2);
    if (!node->remove_named(name)) {
      throw std::runtime_error(what + ": lab `" + node->name() + "` has no VM, bridge or sub-lab named `" + name + "`");
    }
  } else {
    const LabMember member = member_at(L, 2, what + ": argument (a name or a resource)");
    if (!node->remove_object(member.object())) {
      throw std::runtime_error(what + ": that " + std::string(to_string(member.kind)) + " is not in lab `" +
                               node->name() + "`");
    }
  }
  return 0;
}

void push_names(lua_State* L, const std::vector<std::string>& names) {
  lua_createtable(L, static_cast<int>(names.size()), 0);
  for (std::size_t i = 0; i < names.size(); ++i) {
    lua_pushstring(L, names[i].c_str());
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
}

int lab_members(lua_State* L) {
  auto node = self_node(L, "members");
  const auto& members = node->members();
  lua_createtable(L, static_cast<int>(members.size()), 0);
  for (std::size_t i = 0; i < members.size(); ++i) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, to_string(members[i].kind));
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, members[i].name.c_str());
    lua_setfield(L, -2, "name");
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  return 1;
}

int lab_vm_names(lua_State* L) {
  push_names(L, self_node(L, "vm_names")->names_of(MemberKind::vm));
  return 1;
}

int lab_bridge_names(lua_State* L) {
  push_names(L, self_node(L, "bridge_names")->names_of(MemberKind::bridge));
  return 1;
}

int lab_sub_lab_names(lua_State* L) {
  push_names(L, self_node(L, "sub_lab_names")->names_of(MemberKind::sub_lab));
  return 1;
}

// Batch lifecycle: the lab's own VMs, in the order they joined it. boot
// launches every guest first and then waits for each agent in turn, so the
// guests boot side by side.
int lab_boot(lua_State* L) {
  auto node = self_node(L, "boot");
  const std::string what = method_name(L, *node, "boot");
  const auto vms = node->vms();
  for (const auto& vm : vms) {
    if (vm->state() == VmState::shutdown || vm->state() == VmState::dead) {
      throw std::runtime_error(what + ": vm `" + vm->name() + "` is `" + to_string(vm->state()) +
                               "` and cannot boot again; nothing was booted");
    }
  }
  std::vector<std::shared_ptr<Vm>> launched;
  std::optional<std::string> failure;
  for (const auto& vm : vms) {
    if (vm->state() != VmState::created) continue;
    try {
      vm->launch(VmSpec{});
      launched.push_back(vm);
    } catch (const TestTimedOut&) {
      throw;
    } catch (const std::exception& error) {
      failure = error.what();
      break;
    }
  }
  // Every launched guest is greeted, also after a failure, so none is left
  // half booted.
  for (const auto& vm : launched) {
    try {
      vm->greet();
      lab_of(L).rejoin_bridges(*vm);  // bridges it was attached to while created
    } catch (const TestTimedOut&) {
      throw;
    } catch (const std::exception& error) {
      if (!failure) failure = error.what();
    }
  }
  if (failure) throw std::runtime_error(what + ": " + *failure);
  lua_settop(L, 1);
  return 1;
}

int lab_shutdown(lua_State* L) {
  auto node = self_node(L, "shutdown");
  for (const auto& vm : node->vms()) {
    if (vm->state() == VmState::booted || vm->state() == VmState::paused) vm->shutdown();
  }
  return 0;
}

// pause / resume: every VM must be in `from` first, or nothing happens.
template <void (Vm::*Verb)(), VmState From>
int lab_transition(lua_State* L, const char* method) {
  auto node = self_node(L, method);
  const std::string what = method_name(L, *node, method);
  const auto vms = node->vms();
  for (const auto& vm : vms) {
    if (vm->state() != From) {
      throw std::runtime_error(what + ": vm `" + vm->name() + "` is `" + to_string(vm->state()) + "`, not `" +
                               to_string(From) + "`; nothing was done");
    }
  }
  for (const auto& vm : vms) ((*vm).*Verb)();
  return 0;
}

int lab_pause(lua_State* L) { return lab_transition<&Vm::pause, VmState::booted>(L, "pause"); }
int lab_resume(lua_State* L) { return lab_transition<&Vm::resume, VmState::paused>(L, "resume"); }

int lab_claim(lua_State* L) {
  auto node = self_node(L, "claim");
  const std::string what = method_name(L, *node, "claim");
  if (!lua_istable(L, 2)) {
    throw std::invalid_argument(what + ": expected a table {memory = ..., cpus = ...}, got " + lua_type_name(L, 2));
  }
  ResourceClaim claim;
  for_each_field(L, 2, what, [&](const std::string& key) {
    if (key == "memory") {
      claim.memory_bytes = read_byte_size(L, what + ": memory", /*allow_zero=*/true);
    } else if (key == "cpus") {
      const std::int64_t cpus = read_integer(L, -1, what + ": cpus");
      if (cpus < 0 || cpus > std::numeric_limits<std::uint32_t>::max()) {
        throw std::invalid_argument(what + ": cpus must be a whole number of CPUs, got " + std::to_string(cpus));
      }
      claim.cpus = static_cast<std::uint32_t>(cpus);
    } else {
      throw std::invalid_argument(what + ": unknown field `" + key + "` (known: memory, cpus)");
    }
  });
  claim.site = call_site(L);
  lab_of(L).claim(std::move(claim), what);
  return 0;
}

int lab_barrier(lua_State* L) {
  auto node = self_node(L, "barrier");
  const std::string method = method_name(L, *node, "barrier");
  const std::string name = read_text(L, 2, method + ": name");
  const std::int64_t count = read_integer(L, 3, method + ": count");
  if (count < 1 || count > 1'000'000) {
    throw std::invalid_argument(method + ": count must be a positive number of callers, got " + std::to_string(count));
  }
  Millis timeout = kDefaultBarrierTimeout;
  if (!lua_isnoneornil(L, 4)) timeout = read_duration(L, 4, method + ": timeout");
  const std::string what = method + "(`" + name + "`, " + std::to_string(count) + ")";
  return node->barriers().arrive(L, name, static_cast<int>(count), timeout, what, call_site(L));
}

// The fixture cache reads the literal path from the source; at run time
// the call only checks its argument.
int lab_depends_on_file(lua_State* L) {
  auto node = self_node(L, "depends_on_file");
  const std::string what = method_name(L, *node, "depends_on_file");
  if (lua_type(L, 2) != LUA_TSTRING) {
    throw std::invalid_argument(what + ": expected a host path (a string literal), got " + lua_type_name(L, 2));
  }
  if (lua_rawlen(L, 2) == 0) throw std::invalid_argument(what + ": the path must not be empty");
  return 0;
}

// provium.pack(fmt, ...) and provium:pack(fmt, ...) alike: drop a leading
// self, then call the string library function in upvalue 1.
int pass_through(lua_State* L) {
  if (luaL_testudata(L, 1, kLabTypeName) != nullptr) lua_remove(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

// __index: methods and reserved keys come from the table in upvalue 2; then
// a VM, a bridge, a sub-lab of that name (walking up from a test's scope).
int lab_index(lua_State* L) {
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  const std::string key = lua_tostring(L, 2);
  LabHandle* handle = test_handle(L, 1);
  if (!handle->node && key == "timeout") {
    lua_getiuservalue(L, 1, kTimeoutSlot);
    return 1;
  }
  if (!handle->node && key == "reset_between_tests") {
    lua_getiuservalue(L, 1, kResetSlot);
    lua_pushboolean(L, lua_toboolean(L, -1));
    return 1;
  }
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  auto node = node_of(lab_of(L), *handle);
  if (auto vm = node->find_vm(key)) {
    push_vm(L, std::move(vm));
    return 1;
  }
  if (auto bridge = node->find_bridge(key)) {
    push_bridge(L, std::move(bridge));
    return 1;
  }
  if (auto sub = node->find_lab(key)) {
    push_lab(L, std::move(sub));
    return 1;
  }
  return 0;
}

int lab_newindex(lua_State* L) {
  const std::string key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";
  LabHandle* handle = test_handle(L, 1);
  if (handle->node) {
    throw std::invalid_argument("lab `" + handle->node->name() + "`." + key +
                                " cannot be assigned: sub-labs have no settings (declare VMs with lab:vm(name, "
                                "profile))");
  }
  Lab& lab = lab_of(L);
  if (key == "timeout") {
    std::optional<Millis> timeout;
    if (!lua_isnil(L, 3)) timeout = read_duration(L, 3, "provium.timeout");
    lab.set_default_timeout(timeout);
    lua_pushvalue(L, 3);
    lua_setiuservalue(L, 1, kTimeoutSlot);
    return 0;
  }
  if (key == "reset_between_tests") {
    if (lab.in_test_scope()) {
      throw std::runtime_error("provium.reset_between_tests is a file setting: set it at the file's top level");
    }
    const bool on = lua_toboolean(L, 3) != 0;
    lab.set_reset_between_tests(on);
    lua_pushboolean(L, on ? 1 : 0);
    lua_setiuservalue(L, 1, kResetSlot);
    return 0;
  }
  throw std::invalid_argument("provium." + key +
                              " cannot be assigned: only provium.timeout and provium.reset_between_tests are "
                              "settable (declare VMs with provium:vm(name, profile))");
}

int lab_tostring(lua_State* L) {
  LabHandle* handle = test_handle(L, 1);
  if (!handle->node) {
    lua_pushliteral(L, "provium (root lab)");
  } else {
    lua_pushfstring(L, "lab `%s`", handle->node->name().c_str());
  }
  return 1;
}

int lab_eq(lua_State* L) {
  LabHandle* a = test_handle(L, 1);
  LabHandle* b = test_handle(L, 2);
  lua_pushboolean(L, a != nullptr && b != nullptr && a->node == b->node);
  return 1;
}

int lab_gc(lua_State* L) {
  if (auto* handle = static_cast<LabHandle*>(lua_touserdata(L, 1))) handle->~LabHandle();
  return 0;
}

// lab:vm_fixture(name) and provium.vm_fixture(name) alike: the VM lands in
// the root lab whichever lab or scope asks (docs/fixtures.md).
int lab_vm_fixture(lua_State* L) {
  const int name_at = test_handle(L, 1) != nullptr ? 2 : 1;
  const std::string name = read_text(L, name_at, "provium:vm_fixture: fixture name");
  push_vm(L, lab_of(L).vm_fixture(name));
  return 1;
}

// lab:lab_fixture(name) and provium.lab_fixture(name): a sub-lab of the
// root lab, whichever lab or scope asks (docs/fixtures.md).
int lab_lab_fixture(lua_State* L) {
  const int name_at = test_handle(L, 1) != nullptr ? 2 : 1;
  const std::string name = read_text(L, name_at, "provium:lab_fixture: fixture name");
  push_lab(L, lab_of(L).lab_fixture(name));
  return 1;
}

// lab:snapshot([dir]): a LabSnapshot, or with `dir` the directory's path.
int lab_snapshot(lua_State* L) {
  auto node = self_node(L, "snapshot");
  const std::string what = method_name(L, *node, "snapshot");
  std::string requested;
  if (!lua_isnoneornil(L, 2)) requested = read_text(L, 2, what + ": directory");
  const std::string path = take_lab_snapshot(lab_of(L), *node, requested, what);
  if (requested.empty()) {
    push_lab_snapshot(L, path);
  } else {
    lua_pushlstring(L, path.data(), path.size());
  }
  return 1;
}

// lab:restore(snap | dir)
int lab_restore(lua_State* L) {
  auto node = self_node(L, "restore");
  const std::string what = method_name(L, *node, "restore");
  std::string requested;
  if (auto path = lab_snapshot_path_at(L, 2)) {
    requested = *path;
  } else if (lua_type(L, 2) == LUA_TSTRING) {
    requested = lua_tostring(L, 2);
  } else {
    throw std::invalid_argument(what + ": expected a LabSnapshot or a directory path, got " + lua_type_name(L, 2));
  }
  LabSnapshotRead snapshot;
  try {
    snapshot = lab_of(L).link().read_lab_index(requested);
  } catch (const std::exception& error) {
    throw std::runtime_error(what + ": " + error.what());
  }
  restore_lab_snapshot(lab_of(L), *node, snapshot, what);
  lua_settop(L, 1);
  return 1;
}

// The table of methods and reserved members, shared by every lookup so that
// provium.pack == provium.pack. Each method has the Lab as upvalue 1.
void push_reserved_members(lua_State* L, Lab& lab) {
  static constexpr std::pair<const char*, lua_CFunction> kMethods[] = {
      {"vm", lua_entry<lab_vm>},
      {"bridge", lua_entry<lab_bridge_method>},
      {"lab", lua_entry<lab_lab>},
      {"name", lua_entry<lab_name>},
      {"include", lua_entry<lab_include>},
      {"remove", lua_entry<lab_remove>},
      {"members", lua_entry<lab_members>},
      {"vm_names", lua_entry<lab_vm_names>},
      {"bridge_names", lua_entry<lab_bridge_names>},
      {"sub_lab_names", lua_entry<lab_sub_lab_names>},
      {"boot", lua_entry<lab_boot>},
      {"shutdown", lua_entry<lab_shutdown>},
      {"pause", lua_entry<lab_pause>},
      {"resume", lua_entry<lab_resume>},
      {"claim", lua_entry<lab_claim>},
      {"barrier", lua_entry<lab_barrier>},
      {"depends_on_file", lua_entry<lab_depends_on_file>},
      {"vm_fixture", lua_entry<lab_vm_fixture>},
      {"lab_fixture", lua_entry<lab_lab_fixture>},
      {"snapshot", lua_entry<lab_snapshot>},
      {"restore", lua_entry<lab_restore>},
  };
  lua_newtable(L);
  for (const auto& [name, function] : kMethods) {
    lua_pushlightuserdata(L, &lab);
    lua_pushcclosure(L, function, 1);
    lua_setfield(L, -2, name);
  }
  lua_getglobal(L, LUA_STRLIBNAME);
  for (const char* name : {"pack", "unpack"}) {
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, lua_entry<pass_through>, 1);
    lua_setfield(L, -3, name);
  }
  lua_pop(L, 1);
}

}  // namespace

void install_provium_global(lua_State* L, Lab& lab) {
  auto* memory = static_cast<LabHandle*>(lua_newuserdatauv(L, sizeof(LabHandle), 2));
  new (memory) LabHandle{nullptr};
  luaL_newmetatable(L, kLabTypeName);
  lua_pushlightuserdata(L, &lab);
  push_reserved_members(L, lab);
  lua_pushcclosure(L, lua_entry<lab_index>, 2);
  lua_setfield(L, -2, "__index");
  lua_pushlightuserdata(L, &lab);
  lua_pushcclosure(L, lua_entry<lab_newindex>, 1);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, lua_entry<lab_tostring>);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, lab_eq);
  lua_setfield(L, -2, "__eq");
  lua_pushcfunction(L, lab_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_setglobal(L, "provium");
  lua_pushlightuserdata(L, &lab);
  lua_setfield(L, LUA_REGISTRYINDEX, kLabRegistryKey);
}

void rejoin_bridges(lua_State* L, Vm& vm, const char* verb) {
  Lab* lab = installed_lab(L);
  if (lab == nullptr) return;
  try {
    lab->rejoin_bridges(vm);
  } catch (const TestTimedOut&) {
    throw;
  } catch (const std::runtime_error& error) {
    throw std::runtime_error("vm `" + vm.name() + "`: " + verb + ": " + error.what());
  }
}

Lab* installed_lab(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, kLabRegistryKey);
  Lab* lab = static_cast<Lab*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return lab;
}

}  // namespace provium::runner
