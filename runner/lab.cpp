#include "lab.h"

#include "lab_snapshot.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <stdexcept>

namespace provium::runner {
namespace {

const char* kind_noun(MemberKind kind) {
  switch (kind) {
    case MemberKind::vm: return "VM";
    case MemberKind::bridge: return "bridge";
    case MemberKind::sub_lab: return "sub-lab";
  }
  return "member";
}

const char* duplicate_error(MemberKind kind) {
  switch (kind) {
    case MemberKind::vm: return "DuplicateVmName";
    case MemberKind::bridge: return "DuplicateBridgeName";
    case MemberKind::sub_lab: return "DuplicateLabName";
  }
  return "DuplicateName";
}

// How test code reaches an existing member of the file scope by name.
std::string lookup_hint(MemberKind kind, const std::string& name) {
  switch (kind) {
    case MemberKind::vm: return "provium:vm(\"" + name + "\")";
    case MemberKind::bridge: return "provium:bridge(\"" + name + "\")";
    case MemberKind::sub_lab: return "provium." + name;
  }
  return "provium." + name;
}

}  // namespace

Lab::Lab(SupervisorLink& link, TestClock& clock)
    : link_(link), clock_(clock), root_(std::make_shared<LabNode>("provium", "", nullptr)) {}

void Lab::check_new_name(const LabNode& lab, const std::string& name, MemberKind kind,
                         const std::string& what) const {
  if (name.empty()) throw std::invalid_argument(what + ": name must not be empty");
  if (is_reserved_member_name(name)) {
    throw std::invalid_argument(what + ": `" + name + "` is a reserved name on a lab; pick another");
  }
  if (lab.find_local(name, kind)) {
    throw std::runtime_error(what + ": " + duplicate_error(kind) + ": lab `" + lab.name() + "` already has a " +
                             kind_noun(kind) + " named `" + name + "`");
  }
  // A test-scope name silently hiding a file-scope one is almost always a
  // mistake, so it is refused rather than shadowed.
  if (const LabNode* holder = lab.parent_holding(name)) {
    throw std::runtime_error(what + ": `" + name + "` is declared at file scope already (lab `" + holder->name() +
                             "`), and a test may not declare the same name again. To use that one, look it up with " +
                             lookup_hint(kind, name) + "; for a separate one, choose another name.");
  }
}

Lab::OwnedVm* Lab::owned(const Vm& vm) {
  for (Scope* scope : {&test_scope_, &file_scope_}) {
    for (auto& owned : scope->vms) {
      if (owned.vm.get() == &vm) return &owned;
    }
  }
  return nullptr;
}

std::shared_ptr<Vm> Lab::create_vm(LabNode& lab, const std::string& name, const std::string& profile,
                                   const VmSpec& spec, const std::string& what) {
  check_new_name(lab, name, MemberKind::vm, what);
  const std::string qualified = lab.qualifier() + name;
  for (const Scope* scope : {&test_scope_, &file_scope_}) {
    for (const auto& owned : scope->vms) {
      if (owned.vm->name() == qualified) {
        throw std::runtime_error(what + ": `" + name + "` in lab `" + lab.name() + "` would be VM `" + qualified +
                                 "` towards the supervisor, and another VM of this file has that name; pick another");
      }
    }
  }
  std::unique_ptr<VmBackend> backend;
  try {
    backend = link_.create_vm(qualified, profile, spec);
  } catch (const std::exception& error) {
    throw std::runtime_error(what + ": cannot create `" + name + "` (profile `" + profile + "`): " + error.what());
  }
  const auto defaults = backend->default_resources();
  auto vm = std::make_shared<Vm>(qualified, profile, spec, std::move(backend), clock_);
  vm->set_boot_check([this, raw = vm.get()](const VmSpec& merged) { check_claim(*raw, merged); });
  scope().vms.push_back(OwnedVm{vm, defaults, std::nullopt});
  lab.add(LabMember{MemberKind::vm, name, vm, nullptr, nullptr});
  declared_names_[vm.get()] = name;
  return vm;
}

std::shared_ptr<Vm> Lab::vm_fixture(const std::string& name) {
  const std::string what = "provium:vm_fixture(\"" + name + "\")";
  if (auto found = fixture_vms_.find(name); found != fixture_vms_.end()) return found->second;
  FixtureVm fixture;
  try {
    fixture = link_.vm_fixture(name);
  } catch (const std::exception& error) {
    throw std::runtime_error(what + ": " + error.what());
  }
  // Fixtures always land in the file's root lab, whichever scope asks.
  check_new_name(*root_, fixture.name, MemberKind::vm, what);
  for (const OwnedVm& owned : file_scope_.vms) {
    if (owned.vm->name() == fixture.name) {
      throw std::runtime_error(what + ": its VM is named `" + fixture.name + "`, and this file already has one");
    }
  }
  const auto size = fixture.backend->default_resources();
  auto vm = std::make_shared<Vm>(fixture.name, fixture.profile, VmSpec{}, std::move(fixture.backend), clock_);
  vm->adopt_restored(std::move(fixture.restored));
  file_scope_.vms.push_back(OwnedVm{vm, size, size});
  root_->add(LabMember{MemberKind::vm, fixture.name, vm, nullptr, nullptr});
  declared_names_[vm.get()] = fixture.name;
  fixture_vms_[name] = vm;
  return vm;
}

std::shared_ptr<LabNode> Lab::lab_fixture(const std::string& name) {
  const std::string what = "provium:lab_fixture(\"" + name + "\")";
  if (auto found = fixture_labs_.find(name); found != fixture_labs_.end()) return found->second;
  LabSnapshotRead snapshot;
  try {
    snapshot = link_.lab_fixture(name);
  } catch (const std::exception& error) {
    throw std::runtime_error(what + ": " + error.what());
  }
  std::string lab_name = name.substr(name.find_last_of('/') + 1);
  for (char& c : lab_name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  // Fixtures belong to the file's root lab, whichever scope asks.
  at_file_scope_ = true;
  try {
    auto sub = create_sub_lab(*root_, lab_name, what);
    restore_lab_snapshot(*this, *sub, snapshot, what);
    at_file_scope_ = false;
    fixture_labs_[name] = sub;
    return sub;
  } catch (...) {
    at_file_scope_ = false;
    throw;
  }
}

std::shared_ptr<Bridge> Lab::bridge(LabNode& lab, const std::string& name, const std::string& what) {
  if (auto found = lab.find_bridge(name)) return found;
  check_new_name(lab, name, MemberKind::bridge, what);
  const std::string qualified = lab.qualifier() + name;
  for (const Scope* scope : {&test_scope_, &file_scope_}) {
    for (const auto& bridge : scope->bridges) {
      if (bridge->name() == qualified) {
        throw std::runtime_error(what + ": `" + name + "` in lab `" + lab.name() + "` would be bridge `" + qualified +
                                 "` towards the supervisor, and another bridge of this file has that name; pick "
                                 "another");
      }
    }
  }
  std::unique_ptr<BridgeBackend> backend;
  try {
    backend = link_.create_bridge(qualified);
  } catch (const std::exception& error) {
    throw std::runtime_error(what + ": cannot create `" + name + "`: " + error.what());
  }
  auto bridge = std::make_shared<Bridge>(qualified, std::move(backend));
  scope().bridges.push_back(bridge);
  lab.add(LabMember{MemberKind::bridge, name, nullptr, bridge, nullptr});
  declared_names_[bridge.get()] = name;
  return bridge;
}

std::shared_ptr<LabNode> Lab::create_sub_lab(LabNode& lab, const std::string& name, const std::string& what) {
  std::string chosen = name;
  if (chosen.empty()) {
    do {
      chosen = "__lab_" + std::to_string(anonymous_labs_++);
    } while (lab.find_local(chosen, MemberKind::sub_lab));
  }
  check_new_name(lab, chosen, MemberKind::sub_lab, what);
  // Federation sub-labs have no parent: lookups do not fall through.
  auto sub = std::make_shared<LabNode>(chosen, lab.qualifier() + chosen + ".", nullptr);
  scope().labs.push_back(sub);
  lab.add(LabMember{MemberKind::sub_lab, chosen, nullptr, nullptr, sub});
  declared_names_[sub.get()] = chosen;
  return sub;
}

std::string Lab::declared_name(const void* object) const {
  const auto found = declared_names_.find(object);
  return found == declared_names_.end() ? std::string() : found->second;
}

void Lab::include(LabNode& lab, const std::vector<LabMember>& members, const std::string& what) {
  // All or nothing: every member is checked (also against the others)
  // before any is added.
  LabNode staged(lab.name(), lab.qualifier(), lab.parent());
  for (const auto& existing : lab.members()) staged.add(existing);
  std::vector<LabMember> added;
  for (const auto& member : members) {
    LabMember named = member;
    named.name = declared_name(member.object());
    if (named.name.empty()) {
      throw std::invalid_argument(what + ": that " + std::string(kind_noun(member.kind)) +
                                  " does not belong to this file's labs (its scope may have ended)");
    }
    if (member.lab && member.lab->contains_lab(&lab)) {
      throw std::invalid_argument(what + ": sub-lab `" + named.name + "` cannot be included into lab `" +
                                  lab.name() + "`, which is itself or lies inside it");
    }
    check_new_name(staged, named.name, member.kind, what);
    staged.add(named);
    added.push_back(std::move(named));
  }
  for (auto& member : added) lab.add(std::move(member));
}

std::vector<std::shared_ptr<Bridge>> Lab::bridges_of(const std::string& vm) const {
  std::vector<std::shared_ptr<Bridge>> found;
  for (const Scope* scope : {&test_scope_, &file_scope_}) {
    for (const auto& bridge : scope->bridges) {
      if (!bridge->closed() && bridge->is_member(vm)) found.push_back(bridge);
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a->name() < b->name(); });
  return found;
}

void Lab::rejoin_bridges(Vm& vm) {
  auto bridges = bridges_of(vm.name());
  std::stable_sort(bridges.begin(), bridges.end(), [&](const auto& a, const auto& b) {
    return a->join_order(vm.name()) < b->join_order(vm.name());
  });
  for (const auto& bridge : bridges) bridge->join_booted(vm);
}

std::optional<std::string> Lab::take_baseline() {
  const std::string what = "provium.reset_between_tests: the baseline snapshot after the top level";
  for (const OwnedVm& owned : file_scope_.vms) {
    const VmState state = owned.vm->state();
    if (state != VmState::booted && state != VmState::paused) continue;
    try {
      baseline_.push_back(Baseline{owned.vm, owned.vm->snapshot("").path, state == VmState::paused});
    } catch (const std::exception& error) {
      return what + ": " + error.what();
    }
  }
  for (const auto& bridge : file_scope_.bridges) {
    if (!bridge->closed()) baseline_policies_.emplace_back(bridge, bridge->policy());
  }
  return std::nullopt;
}

std::optional<std::string> Lab::restore_baseline() {
  for (const Baseline& entry : baseline_) {
    try {
      if (entry.vm->state() != VmState::shutdown) entry.vm->shutdown();
      entry.vm->restore(entry.snapshot);
      rejoin_bridges(*entry.vm);
      if (entry.paused) entry.vm->pause();
    } catch (const std::exception& error) {
      return "provium.reset_between_tests: restoring VM `" + entry.vm->name() + "` to the baseline: " + error.what();
    }
  }
  for (const auto& [bridge, policy] : baseline_policies_) {
    if (bridge->closed()) continue;
    try {
      bridge->set_whole_policy(policy, "reset_between_tests");
    } catch (const std::exception& error) {
      return "provium.reset_between_tests: bridge `" + bridge->name() + "` back to the baseline's policy: " +
             error.what();
    }
  }
  return std::nullopt;
}

void Lab::adopt(ResourceKind kind, Closer close) { scope().resources.push_back(Adopted{kind, std::move(close)}); }

void Lab::claim(ResourceClaim claim, const std::string& what) {
  if (claim_) throw std::runtime_error(what + ": claim already taken (by provium:claim at " + claim_->site + ")");
  if (in_test_scope()) {
    throw std::runtime_error(what + ": a claim covers the whole file; make it at the file's top level, not in a test");
  }
  link_.claim(claim);
  claim_ = std::move(claim);
}

void Lab::check_claim(const Vm& vm, const VmSpec& spec) {
  if (!claim_) return;
  OwnedVm* self = owned(vm);
  if (self == nullptr) return;
  if ((!spec.memory_bytes || !spec.cpus) && !self->defaults) {
    throw std::runtime_error("vm `" + vm.name() + "`: boot refused: the file has a claim, and the supervisor did " +
                             "not say how big profile `" + vm.profile() + "` is");
  }
  const VmResources wanted{spec.memory_bytes.value_or(self->defaults ? self->defaults->memory_bytes : 0),
                           spec.cpus.value_or(self->defaults ? self->defaults->cpus : 0)};
  VmResources in_use;
  for (const Scope* scope : {&test_scope_, &file_scope_}) {
    for (const auto& owned : scope->vms) {
      const VmState state = owned.vm->state();
      // `created` with a size: launched by lab:boot(), agent not greeted yet.
      if (owned.booted && state != VmState::shutdown && state != VmState::dead) {
        in_use.memory_bytes += owned.booted->memory_bytes;
        in_use.cpus += owned.booted->cpus;
      }
    }
  }
  if (auto refusal = claim_refusal(*claim_, in_use, wanted)) {
    throw std::runtime_error("vm `" + vm.name() + "`: boot refused: " + *refusal);
  }
  self->booted = wanted;
}

void Lab::enter_test_scope() {
  test_node_ = std::make_shared<LabNode>("provium", "", root_.get());
  test_scope_ = Scope{};
}

std::vector<std::string> Lab::abandon_test_barriers(lua_State* L) {
  std::vector<std::string> lines;
  if (!test_node_) return lines;
  std::vector<LabNode*> labs{test_node_.get()};
  for (const auto& sub : test_scope_.labs) labs.push_back(sub.get());
  for (LabNode* lab : labs) {
    for (auto& line : lab->barriers().abandon(L)) lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<std::string> Lab::abandon_file_barriers(lua_State* L) {
  std::vector<std::string> lines;
  std::vector<LabNode*> labs{root_.get()};
  for (const auto& sub : file_scope_.labs) labs.push_back(sub.get());
  for (LabNode* lab : labs) {
    for (auto& line : lab->barriers().abandon(L)) lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<std::string> Lab::close_scope(Scope& scope) {
  std::vector<std::string> errors;
  // Resources first, by kind (streams, processes, files, workers), each kind
  // in the order it was created: they live in VMs that are still running.
  auto resources = std::move(scope.resources);
  scope.resources.clear();
  std::stable_sort(resources.begin(), resources.end(),
                   [](const Adopted& a, const Adopted& b) { return a.kind < b.kind; });
  for (auto& resource : resources) {
    if (auto error = resource.close()) errors.push_back(*error);
  }
  // Bridges next: they detach their members while those still run.
  for (auto it = scope.bridges.rbegin(); it != scope.bridges.rend(); ++it) {
    if (auto error = (*it)->close()) errors.push_back(*error);
  }
  for (auto it = scope.vms.rbegin(); it != scope.vms.rend(); ++it) {
    if (auto error = it->vm->close()) errors.push_back(*error);
  }
  return errors;
}

std::vector<std::string> Lab::leave_test_scope() {
  if (!test_node_) return {};
  std::vector<std::string> errors = close_scope(test_scope_);
  // What the test created leaves every lab of the file with it.
  std::set<const void*> gone;
  for (const auto& owned : test_scope_.vms) gone.insert(owned.vm.get());
  for (const auto& bridge : test_scope_.bridges) gone.insert(bridge.get());
  for (const auto& lab : test_scope_.labs) gone.insert(lab.get());
  const auto is_gone = [&](const void* object) { return gone.contains(object); };
  std::vector<const LabNode*> visited;
  root_->forget_if(is_gone, visited);
  for (const auto& lab : file_scope_.labs) lab->forget_if(is_gone, visited);
  for (const void* object : gone) declared_names_.erase(object);
  test_node_.reset();
  test_scope_ = Scope{};
  return errors;
}

std::vector<std::string> Lab::close_all() {
  std::vector<std::string> errors = close_scope(test_scope_);
  for (auto& error : close_scope(file_scope_)) errors.push_back(std::move(error));
  return errors;
}

}  // namespace provium::runner
