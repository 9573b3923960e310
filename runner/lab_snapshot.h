// Whole-lab snapshots (docs/snapshots.md): lab:snapshot() writes one
// snapshot file per running VM of a lab into a directory the supervisor
// makes, plus an index (lab.json) of the lab's VMs, bridges and which NIC
// slot each VM had on which bridge. lab:restore() puts a lab back from it:
// the bridges are declared, missing VMs created, running ones shut down,
// every VM restored and wired to its bridges in slot order, paused ones
// paused again. provium:lab_fixture restores a cached one the same way.
//
// What a lab snapshot holds: the lab's own VMs and bridges. VMs of other
// labs, links to bridges of other labs, bridge policies and uplinks are not
// part of it.
#pragma once

#include "lab.h"
#include "lab_node.h"
#include "supervisor_link.h"

#include <string>

namespace provium::runner {

// Returns the directory's path. `requested` empty: a new directory in the
// file's scratch space (removed when the file ends). Throws
// std::runtime_error starting with `what`.
std::string take_lab_snapshot(Lab& lab, LabNode& node, const std::string& requested, const std::string& what);

// Restores `snapshot` (read with SupervisorLink::read_lab_index) into `node`.
void restore_lab_snapshot(Lab& lab, LabNode& node, const LabSnapshotRead& snapshot, const std::string& what);

}  // namespace provium::runner
