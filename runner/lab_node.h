// One lab's membership graph: the VMs, bridges and sub-labs it holds, by the
// names test code uses. Graph only: membership says where a name resolves,
// not who shuts a resource down (the scope that created it does, lab.h).
//
// A per-test scope has the file's root lab as its parent, so lookups that
// miss fall through to it; the root and federation sub-labs have none.
#pragma once

#include "barrier.h"
#include "bridge.h"
#include "vm.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace provium::runner {

class LabNode;

enum class MemberKind { vm, bridge, sub_lab };
const char* to_string(MemberKind kind);

// Names a lab's methods and settings use (`boot`, `pack`, `timeout`, ...):
// a member by such a name could not be reached as lab.<name>.
bool is_reserved_member_name(std::string_view name);

struct LabMember {
  MemberKind kind;
  std::string name;
  std::shared_ptr<Vm> vm;
  std::shared_ptr<Bridge> bridge;
  std::shared_ptr<LabNode> lab;
  // The object, whatever its kind (for identity checks).
  const void* object() const;
};

class LabNode {
 public:
  // `qualifier` prefixes the names of VMs and bridges created here towards
  // the supervisor ("" for the root and test scopes, "dc1." in sub-lab dc1).
  LabNode(std::string name, std::string qualifier, const LabNode* parent)
      : name_(std::move(name)), qualifier_(std::move(qualifier)), parent_(parent) {}

  const std::string& name() const { return name_; }
  const std::string& qualifier() const { return qualifier_; }
  const LabNode* parent() const { return parent_; }

  // This lab only.
  const LabMember* find_local(const std::string& name, MemberKind kind) const;
  // This lab, then its parents.
  std::shared_ptr<Vm> find_vm(const std::string& name) const;
  std::shared_ptr<Bridge> find_bridge(const std::string& name) const;
  std::shared_ptr<LabNode> find_lab(const std::string& name) const;
  // The nearest parent lab holding `name` (of any kind), for shadow checks.
  const LabNode* parent_holding(const std::string& name) const;

  // Adds without checks (lab.cpp checks names first).
  void add(LabMember member) { members_.push_back(std::move(member)); }
  // Removes by name (vm, then bridge, then sub-lab) or by object; false when
  // nothing matched.
  bool remove_named(const std::string& name);
  bool remove_object(const void* object);
  // Drops members for which `gone` holds, here and in every sub-lab below.
  template <typename Pred>
  void forget_if(const Pred& gone, std::vector<const LabNode*>& visited);
  // True when `other` is this lab or lies below it.
  bool contains_lab(const LabNode* other) const;

  const std::vector<LabMember>& members() const { return members_; }
  std::vector<std::string> names_of(MemberKind kind) const;
  std::vector<std::shared_ptr<Vm>> vms() const;

  BarrierSet& barriers() { return barriers_; }

 private:
  bool contains_lab(const LabNode* other, std::vector<const LabNode*>& visited) const;

  std::string name_;
  std::string qualifier_;
  const LabNode* parent_;
  std::vector<LabMember> members_;
  BarrierSet barriers_;
};

template <typename Pred>
void LabNode::forget_if(const Pred& gone, std::vector<const LabNode*>& visited) {
  for (const LabNode* seen : visited) {
    if (seen == this) return;
  }
  visited.push_back(this);
  std::erase_if(members_, [&](const LabMember& member) { return gone(member.object()); });
  for (auto& member : members_) {
    if (member.lab) member.lab->forget_if(gone, visited);
  }
}

}  // namespace provium::runner
