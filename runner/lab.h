// A test file's labs and who owns what.
//
// Two things are kept apart. The graph (lab_node.h): the root lab
// `provium`, the per-test scope (a lab whose parent is the root), and
// sub-labs, each holding VMs, bridges and sub-labs by name. And ownership:
// every VM, bridge, sub-lab and adopted resource belongs to the scope that
// was running when it was created (the file scope at top level, else the
// running test's scope), which closes it when it ends: resources by kind
// (streams, processes, files, workers), then bridges, then VMs. A test's
// leftovers are also taken out of every lab of the file's graph.
//
// The supervisor keys VMs and bridges by name, so one created in sub-lab
// `dc1` is known to it as `dc1.<name>` (nested: `dc1.rack.<name>`); test
// code still finds it as `<name>` in `dc1`.
#pragma once

#include "bridge.h"
#include "lab_node.h"
#include "resource_claim.h"
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

// Closed in this order at scope end (before bridges and VMs).
enum class ResourceKind { stream, process, file, worker };

class Lab {
 public:
  Lab(SupervisorLink& link, TestClock& clock);

  // The lab `provium` stands for: the running test's scope, else the root.
  std::shared_ptr<LabNode> current() const { return test_node_ ? test_node_ : root_; }
  const std::shared_ptr<LabNode>& root() const { return root_; }

  // Declares a VM in `lab`. Throws std::runtime_error when the name is taken
  // there, shadows a parent's, collides towards the supervisor, or when the
  // supervisor refuses. `what` prefixes errors ("provium:vm").
  std::shared_ptr<Vm> create_vm(LabNode& lab, const std::string& name, const std::string& profile,
                                const VmSpec& spec, const std::string& what);
  // The bridge `name` as `lab` sees it, declared there when absent.
  std::shared_ptr<Bridge> bridge(LabNode& lab, const std::string& name, const std::string& what);
  // A new sub-lab of `lab`; an empty name gives `__lab_<n>`.
  std::shared_ptr<LabNode> create_sub_lab(LabNode& lab, const std::string& name, const std::string& what);
  // Adds existing resources to `lab` under the names they were declared
  // with: all of them, or none when one is refused.
  void include(LabNode& lab, const std::vector<LabMember>& members, const std::string& what);
  // The name `object` was declared with (empty when unknown).
  std::string declared_name(const void* object) const;

  // Every open bridge `vm` (supervisor name) is attached to, sorted by name.
  std::vector<std::shared_ptr<Bridge>> bridges_of(const std::string& vm) const;
  // After `vm` booted or was restored: the bridges it is a member of wire it
  // (again), in the order it joined them, so its NICs keep their slots.
  void rejoin_bridges(Vm& vm);

  // Closes a resource when the current scope ends; `close` must not throw
  // and returns its error text, if any.
  using Closer = std::function<std::optional<std::string>()>;
  void adopt(ResourceKind kind, Closer close);

  // provium:claim: one per file, at file scope. Throws when taken already.
  void claim(ResourceClaim claim, const std::string& what);
  const std::optional<ResourceClaim>& resource_claim() const { return claim_; }

  void enter_test_scope();
  // Barriers of the test's labs still holding waiters (they are let go).
  std::vector<std::string> abandon_test_barriers(lua_State* L);
  // The same for the root lab and the file's sub-labs, after the top level.
  std::vector<std::string> abandon_file_barriers(lua_State* L);
  // Closes what the test scope owns; returns the errors.
  std::vector<std::string> leave_test_scope();
  // Closes everything of every scope (file end, per-test timeout).
  std::vector<std::string> close_all();
  TestClock& clock() { return clock_; }
  SupervisorLink& link() { return link_; }

  // provium:vm_fixture: the VM restored from fixture `name`, in the root lab
  // wherever it is called, and the same VM on later calls in this file.
  std::shared_ptr<Vm> vm_fixture(const std::string& name);
  // provium:lab_fixture: a sub-lab of the root lab named after the fixture
  // (its last path part), restored from the cached lab snapshot; the same
  // sub-lab on later calls in this file.
  std::shared_ptr<LabNode> lab_fixture(const std::string& name);
  bool in_test_scope() const { return test_node_ != nullptr; }

  // File-wide settings from `provium.timeout`.
  std::optional<Millis> default_timeout() const { return default_timeout_; }
  void set_default_timeout(std::optional<Millis> timeout) { default_timeout_ = timeout; }

  // provium.reset_between_tests (docs/snapshots.md): after the top level,
  // every booted or paused VM of the file scope is snapshotted; after each
  // test they are shut down and restored from it, and rejoin their bridges,
  // whose policies (partitions, impairments) go back to the baseline's. take_baseline and
  // restore_baseline return what went wrong (empty when all went well).
  bool reset_between_tests() const { return reset_between_tests_; }
  void set_reset_between_tests(bool on) { reset_between_tests_ = on; }
  std::optional<std::string> take_baseline();
  std::optional<std::string> restore_baseline();

 private:
  struct Adopted {
    ResourceKind kind;
    Closer close;
  };
  struct OwnedVm {
    std::shared_ptr<Vm> vm;
    std::optional<VmResources> defaults;  // the profile's size, from the supervisor
    std::optional<VmResources> booted;    // the size it was let boot with
  };
  struct Scope {
    std::vector<OwnedVm> vms;
    std::vector<std::shared_ptr<Bridge>> bridges;
    std::vector<std::shared_ptr<LabNode>> labs;
    std::vector<Adopted> resources;
  };
  Scope& scope() { return test_node_ && !at_file_scope_ ? test_scope_ : file_scope_; }
  // Refuses `name` in `lab`: reserved, a duplicate of its kind, or hiding a
  // parent's.
  void check_new_name(const LabNode& lab, const std::string& name, MemberKind kind, const std::string& what) const;
  // Refuses a boot that would take the file past its claim.
  void check_claim(const Vm& vm, const VmSpec& spec);
  OwnedVm* owned(const Vm& vm);
  std::vector<std::string> close_scope(Scope& scope);

  SupervisorLink& link_;
  TestClock& clock_;
  std::shared_ptr<LabNode> root_;
  std::shared_ptr<LabNode> test_node_;
  Scope file_scope_;
  Scope test_scope_;
  std::map<const void*, std::string> declared_names_;
  std::optional<ResourceClaim> claim_;
  int anonymous_labs_ = 0;
  std::optional<Millis> default_timeout_;
  bool reset_between_tests_ = false;
  struct Baseline {
    std::shared_ptr<Vm> vm;
    std::string snapshot;
    bool paused = false;
  };
  std::vector<Baseline> baseline_;
  std::vector<std::pair<std::shared_ptr<Bridge>, BridgePolicySpec>> baseline_policies_;
  std::map<std::string, std::shared_ptr<Vm>> fixture_vms_;  // by fixture name
  std::map<std::string, std::shared_ptr<LabNode>> fixture_labs_;  // by fixture name
  bool at_file_scope_ = false;  // what is made now belongs to the file scope (fixtures)
};

}  // namespace provium::runner
