// The VMs a test file declared, by scope. VMs created at top level belong to
// the file scope and live until the file ends; VMs created inside a test body
// belong to that test's scope and are shut down when it returns. Lookups from
// a test fall through to the file scope. Other resources (guest processes,
// workers, their files) can be adopted by the current scope too: they are
// closed when it ends, newest first, before its VMs shut down.
#pragma once

#include "bridge.h"
#include "supervisor_link.h"
#include "test_clock.h"
#include "vm.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <duration.h>

namespace provium::runner {

class Lab {
 public:
  Lab(SupervisorLink& link, TestClock& clock) : link_(link), clock_(clock) {}

  // Declares a VM in the current scope. Throws std::runtime_error when the
  // name is taken in this scope or (from a test) already declared at file
  // scope, or when the supervisor refuses.
  std::shared_ptr<Vm> create_vm(const std::string& name, const std::string& profile, const VmSpec& spec);
  // provium:vm_fixture: the VM restored from fixture `name`, at file scope
  // wherever it is called, and the same VM on later calls in this file.
  std::shared_ptr<Vm> vm_fixture(const std::string& name);
  // Test scope first, then file scope; null when absent.
  std::shared_ptr<Vm> find_vm(const std::string& name) const;

  // The bridge `name` (test scope, then file scope), declared in the current
  // scope when absent. Throws std::runtime_error when the supervisor refuses.
  std::shared_ptr<Bridge> bridge(const std::string& name);
  std::shared_ptr<Bridge> find_bridge(const std::string& name) const;
  // Every open bridge `vm` is attached to, sorted by bridge name.
  std::vector<std::shared_ptr<Bridge>> bridges_of(const std::string& vm) const;

  // Closes a resource when the current scope ends; `close` must not throw
  // and returns its error text, if any.
  using Closer = std::function<std::optional<std::string>()>;
  void adopt(Closer close);

  void enter_test_scope();
  // Shuts down the test scope's VMs, newest first; returns their errors.
  std::vector<std::string> leave_test_scope();
  // Shuts down every VM in every scope (file end, per-test timeout).
  std::vector<std::string> close_all();
  TestClock& clock() { return clock_; }
  SupervisorLink& link() { return link_; }
  bool in_test_scope() const { return test_scope_.has_value(); }

  // File-wide settings from `provium.timeout`.
  std::optional<Millis> default_timeout() const { return default_timeout_; }
  void set_default_timeout(std::optional<Millis> timeout) { default_timeout_ = timeout; }

 private:
  struct Scope {
    std::vector<std::shared_ptr<Vm>> vms;
    std::vector<std::shared_ptr<Bridge>> bridges;
    std::vector<Closer> resources;
  };
  static std::shared_ptr<Vm> find_in(const Scope& scope, const std::string& name);
  static std::vector<std::string> close_scope(Scope& scope);

  SupervisorLink& link_;
  TestClock& clock_;
  Scope file_scope_;
  std::optional<Scope> test_scope_;
  std::optional<Millis> default_timeout_;
  std::map<std::string, std::shared_ptr<Vm>> fixture_vms_;  // by fixture name
};

}  // namespace provium::runner
