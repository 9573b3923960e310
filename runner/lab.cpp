#include "lab.h"

#include <algorithm>
#include <stdexcept>

namespace provium::runner {

std::shared_ptr<Vm> Lab::find_in(const Scope& scope, const std::string& name) {
  for (const auto& vm : scope.vms) {
    if (vm->name() == name) return vm;
  }
  return nullptr;
}

std::shared_ptr<Vm> Lab::find_vm(const std::string& name) const {
  if (test_scope_) {
    if (auto vm = find_in(*test_scope_, name)) return vm;
  }
  return find_in(file_scope_, name);
}

std::shared_ptr<Vm> Lab::create_vm(const std::string& name, const std::string& profile, const VmSpec& spec) {
  Scope& scope = test_scope_ ? *test_scope_ : file_scope_;
  if (find_in(scope, name)) {
    throw std::runtime_error("provium:vm: a VM named `" + name + "` already exists in this scope; use provium:vm(\"" +
                             name + "\") to look it up");
  }
  // A test-scope VM silently hiding a file-scope one is almost always a
  // mistake, so it is refused rather than shadowed.
  if (test_scope_ && find_in(file_scope_, name)) {
    throw std::runtime_error("provium:vm: `" + name + "`: name already declared at parent scope (lab `provium`). " +
                             "Pick a different name, or use provium:vm(\"" + name + "\") to reuse it.");
  }
  std::unique_ptr<VmBackend> backend;
  try {
    backend = link_.create_vm(name, profile, spec);
  } catch (const std::exception& error) {
    throw std::runtime_error("provium:vm: cannot create `" + name + "` (profile `" + profile + "`): " + error.what());
  }
  auto vm = std::make_shared<Vm>(name, profile, spec, std::move(backend), clock_);
  scope.vms.push_back(vm);
  return vm;
}

std::shared_ptr<Vm> Lab::vm_fixture(const std::string& name) {
  if (auto found = fixture_vms_.find(name); found != fixture_vms_.end()) return found->second;
  FixtureVm fixture;
  try {
    fixture = link_.vm_fixture(name);
  } catch (const std::exception& error) {
    throw std::runtime_error("provium:vm_fixture(\"" + name + "\"): " + error.what());
  }
  if (find_vm(fixture.name)) {
    // The supervisor's VM is released with `fixture.backend` below.
    throw std::runtime_error("provium:vm_fixture(\"" + name + "\"): its VM is named `" + fixture.name +
                             "`, and this file already has a VM of that name");
  }
  auto vm = std::make_shared<Vm>(fixture.name, fixture.profile, VmSpec{}, std::move(fixture.backend), clock_);
  vm->adopt_restored(std::move(fixture.restored));
  file_scope_.vms.push_back(vm);
  fixture_vms_[name] = vm;
  return vm;
}

std::shared_ptr<Bridge> Lab::find_bridge(const std::string& name) const {
  for (const Scope* scope : {test_scope_ ? &*test_scope_ : nullptr, &file_scope_}) {
    if (scope == nullptr) continue;
    for (const auto& bridge : scope->bridges) {
      if (bridge->name() == name) return bridge;
    }
  }
  return nullptr;
}

std::shared_ptr<Bridge> Lab::bridge(const std::string& name) {
  if (auto found = find_bridge(name)) return found;
  std::unique_ptr<BridgeBackend> backend;
  try {
    backend = link_.create_bridge(name);
  } catch (const std::exception& error) {
    throw std::runtime_error("provium:bridge: cannot create `" + name + "`: " + error.what());
  }
  auto bridge = std::make_shared<Bridge>(name, std::move(backend));
  (test_scope_ ? *test_scope_ : file_scope_).bridges.push_back(bridge);
  return bridge;
}

std::vector<std::shared_ptr<Bridge>> Lab::bridges_of(const std::string& vm) const {
  std::vector<std::shared_ptr<Bridge>> found;
  for (const Scope* scope : {test_scope_ ? &*test_scope_ : nullptr, &file_scope_}) {
    if (scope == nullptr) continue;
    for (const auto& bridge : scope->bridges) {
      if (!bridge->closed() && bridge->is_member(vm)) found.push_back(bridge);
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a->name() < b->name(); });
  return found;
}

void Lab::adopt(Closer close) {
  Scope& scope = test_scope_ ? *test_scope_ : file_scope_;
  scope.resources.push_back(std::move(close));
}

void Lab::enter_test_scope() { test_scope_.emplace(); }

std::vector<std::string> Lab::close_scope(Scope& scope) {
  std::vector<std::string> errors;
  // Resources first: they live in VMs (of this scope or an outer one).
  auto resources = std::move(scope.resources);
  scope.resources.clear();
  for (auto it = resources.rbegin(); it != resources.rend(); ++it) {
    if (auto error = (*it)()) errors.push_back(*error);
  }
  // Bridges next: they detach their members while those still run.
  for (auto it = scope.bridges.rbegin(); it != scope.bridges.rend(); ++it) {
    if (auto error = (*it)->close()) errors.push_back(*error);
  }
  scope.bridges.clear();
  for (auto it = scope.vms.rbegin(); it != scope.vms.rend(); ++it) {
    if (auto error = (*it)->close()) errors.push_back(*error);
  }
  return errors;
}

std::vector<std::string> Lab::leave_test_scope() {
  std::vector<std::string> errors;
  if (test_scope_) errors = close_scope(*test_scope_);
  test_scope_.reset();
  return errors;
}

std::vector<std::string> Lab::close_all() {
  std::vector<std::string> errors;
  if (test_scope_) errors = close_scope(*test_scope_);
  for (auto& error : close_scope(file_scope_)) errors.push_back(std::move(error));
  return errors;
}

}  // namespace provium::runner
