#include "lab_node.h"

#include <algorithm>

namespace provium::runner {

const char* to_string(MemberKind kind) {
  switch (kind) {
    case MemberKind::vm: return "vm";
    case MemberKind::bridge: return "bridge";
    case MemberKind::sub_lab: return "sub_lab";
  }
  return "unknown";
}

bool is_reserved_member_name(std::string_view name) {
  static constexpr std::string_view kReserved[] = {
      "vm",       "bridge",      "lab",          "name",        "include",     "remove",   "members",
      "vm_names", "bridge_names", "sub_lab_names", "boot",       "shutdown",    "pause",    "resume",
      "claim",    "barrier",     "depends_on_file", "pack",      "unpack",      "vm_fixture", "lab_fixture",
      "snapshot", "restore",     "timeout",      "reset_between_tests"};
  return std::find(std::begin(kReserved), std::end(kReserved), name) != std::end(kReserved);
}

const void* LabMember::object() const {
  if (vm) return vm.get();
  if (bridge) return bridge.get();
  return lab.get();
}

const LabMember* LabNode::find_local(const std::string& name, MemberKind kind) const {
  for (const auto& member : members_) {
    if (member.kind == kind && member.name == name) return &member;
  }
  return nullptr;
}

std::shared_ptr<Vm> LabNode::find_vm(const std::string& name) const {
  for (const LabNode* lab = this; lab != nullptr; lab = lab->parent_) {
    if (const auto* member = lab->find_local(name, MemberKind::vm)) return member->vm;
  }
  return nullptr;
}

std::shared_ptr<Bridge> LabNode::find_bridge(const std::string& name) const {
  for (const LabNode* lab = this; lab != nullptr; lab = lab->parent_) {
    if (const auto* member = lab->find_local(name, MemberKind::bridge)) return member->bridge;
  }
  return nullptr;
}

std::shared_ptr<LabNode> LabNode::find_lab(const std::string& name) const {
  for (const LabNode* lab = this; lab != nullptr; lab = lab->parent_) {
    if (const auto* member = lab->find_local(name, MemberKind::sub_lab)) return member->lab;
  }
  return nullptr;
}

const LabNode* LabNode::parent_holding(const std::string& name) const {
  for (const LabNode* lab = parent_; lab != nullptr; lab = lab->parent_) {
    for (const auto& member : lab->members_) {
      if (member.name == name) return lab;
    }
  }
  return nullptr;
}

bool LabNode::remove_named(const std::string& name) {
  for (MemberKind kind : {MemberKind::vm, MemberKind::bridge, MemberKind::sub_lab}) {
    const auto found = std::find_if(members_.begin(), members_.end(), [&](const LabMember& member) {
      return member.kind == kind && member.name == name;
    });
    if (found != members_.end()) {
      members_.erase(found);
      return true;
    }
  }
  return false;
}

bool LabNode::remove_object(const void* object) {
  return std::erase_if(members_, [&](const LabMember& member) { return member.object() == object; }) > 0;
}

bool LabNode::contains_lab(const LabNode* other) const {
  std::vector<const LabNode*> visited;
  return contains_lab(other, visited);
}

bool LabNode::contains_lab(const LabNode* other, std::vector<const LabNode*>& visited) const {
  if (this == other) return true;
  if (std::find(visited.begin(), visited.end(), this) != visited.end()) return false;
  visited.push_back(this);
  for (const auto& member : members_) {
    if (member.lab && member.lab->contains_lab(other, visited)) return true;
  }
  return false;
}

std::vector<std::string> LabNode::names_of(MemberKind kind) const {
  std::vector<std::string> names;
  for (const auto& member : members_) {
    if (member.kind == kind) names.push_back(member.name);
  }
  return names;
}

std::vector<std::shared_ptr<Vm>> LabNode::vms() const {
  std::vector<std::shared_ptr<Vm>> found;
  for (const auto& member : members_) {
    if (member.vm) found.push_back(member.vm);
  }
  return found;
}

}  // namespace provium::runner
