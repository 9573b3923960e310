#include "lab_snapshot.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace provium::runner {
namespace {

struct NamedVm {
  std::string name;  // in the lab
  std::shared_ptr<Vm> vm;
};

struct NamedBridge {
  std::string name;
  std::shared_ptr<Bridge> bridge;
};

// The lab's own VMs and bridges; a per-test scope also sees the file root's
// (it falls through to them, and its names cannot shadow theirs).
void collect(const LabNode& node, std::vector<NamedVm>& vms, std::vector<NamedBridge>& bridges,
             const std::string& what) {
  for (const LabNode* lab = &node; lab != nullptr; lab = lab->parent()) {
    for (const auto& member : lab->members()) {
      if (member.vm) vms.push_back({member.name, member.vm});
      if (member.bridge && !member.bridge->closed()) bridges.push_back({member.name, member.bridge});
      if (member.lab && !member.lab->vms().empty()) {
        throw std::runtime_error(what + ": sub-lab `" + member.name + "` holds VMs, and a lab snapshot covers only " +
                                 "the lab's own VMs and bridges; snapshot the sub-lab on its own");
      }
    }
  }
}

bool running(VmState state) { return state == VmState::booted || state == VmState::paused; }

}  // namespace

std::string take_lab_snapshot(Lab& lab, LabNode& node, const std::string& requested, const std::string& what) {
  std::vector<NamedVm> vms;
  std::vector<NamedBridge> bridges;
  collect(node, vms, bridges, what);
  // Everything that would make a VM's snapshot fail, before any is taken.
  for (const auto& [name, vm] : vms) {
    if (vm->state() == VmState::dead) {
      throw std::runtime_error(what + ": VM `" + name + "` is dead (its guest died); shut it down or remove it first");
    }
    if (!running(vm->state())) continue;
    const auto open = vm->open_resources();
    if (!open.empty()) {
      std::string list;
      for (const auto& line : open) list += "\n  " + line;
      throw std::runtime_error(what + ": VM `" + name + "` has open resources that a snapshot cannot keep; close " +
                               "them first:" + list);
    }
  }
  LabSnapshotIndex index;
  for (const auto& bridge : bridges) index.bridges.push_back(bridge.name);
  std::string directory;
  try {
    directory = lab.link().create_lab_snapshot(requested);
  } catch (const std::exception& error) {
    throw std::runtime_error(what + ": " + error.what());
  }
  try {
    for (std::size_t i = 0; i < vms.size(); ++i) {
      const auto& [name, vm] = vms[i];
      LabSnapshotVmEntry entry{name, vm->profile(), "", vm->state() == VmState::paused, {}};
      if (running(vm->state())) {
        entry.file = "vm-" + std::to_string(i + 1) + ".snap";
        vm->snapshot(directory + "/" + entry.file);
        for (const auto& bridge : bridges) {
          if (const auto slot = bridge.bridge->slot_of(vm->name())) entry.nics.push_back({bridge.name, *slot});
        }
        std::sort(entry.nics.begin(), entry.nics.end(), [](const auto& a, const auto& b) { return a.slot < b.slot; });
      }
      index.vms.push_back(std::move(entry));
    }
    lab.link().write_lab_index(directory, index);
  } catch (const TestTimedOut&) {
    throw;
  } catch (const std::exception& error) {
    // An unnamed snapshot nobody can reach is removed; a named directory is
    // left for the user to look at (it may hold an older snapshot's files).
    if (requested.empty()) {
      try {
        lab.link().delete_snapshot(directory);
      } catch (const std::exception&) {
      }
    }
    throw std::runtime_error(what + ": " + error.what());
  }
  return directory;
}

void restore_lab_snapshot(Lab& lab, LabNode& node, const LabSnapshotRead& snapshot, const std::string& what) {
  try {
    for (const auto& name : snapshot.index.bridges) lab.bridge(node, name, what);
    std::vector<std::pair<const LabSnapshotVmEntry*, std::shared_ptr<Vm>>> plan;
    for (const auto& entry : snapshot.index.vms) {
      auto vm = node.find_vm(entry.name);
      if (!vm) vm = lab.create_vm(node, entry.name, entry.profile, VmSpec{}, what);
      plan.emplace_back(&entry, vm);
    }
    // Down first: a VM of the lab that runs now is replaced by the snapshot's.
    for (const auto& [entry, vm] : plan) {
      if (vm->state() != VmState::created && vm->state() != VmState::shutdown) vm->shutdown();
    }
    for (const auto& [entry, vm] : plan) {
      if (entry->file.empty()) continue;
      vm->restore(snapshot.path + "/" + entry->file);
      // Its NICs in slot order, so each lands on the slot it had.
      for (const auto& nic : entry->nics) {
        auto bridge = node.find_bridge(nic.bridge);
        if (!bridge) throw std::runtime_error("the index names bridge `" + nic.bridge + "`, which is not in the lab");
        if (bridge->is_member(vm->name())) {
          bridge->join_booted(*vm);
        } else {
          bridge->attach(std::vector<BridgeMemberRef>{BridgeMemberRef{vm}});
        }
      }
      lab.rejoin_bridges(*vm);  // bridges of other labs it is a member of
    }
    for (const auto& [entry, vm] : plan) {
      if (entry->paused && vm->state() == VmState::booted) vm->pause();
    }
  } catch (const TestTimedOut&) {
    throw;
  } catch (const std::exception& error) {
    const std::string text = error.what();
    if (text.rfind(what, 0) == 0) throw;
    throw std::runtime_error(what + ": " + text);
  }
}

}  // namespace provium::runner
