// Plain runner values <-> their ipc/runner.capnp forms.
#pragma once

#include "file_job.h"
#include "supervisor_link.h"
#include "vm_spec.h"

#include <runner.capnp.h>

namespace provium::runner {

// Cap'n Proto Text ends at the first NUL on the receiving side; names and
// messages from test code may contain one, so it is spelled out as "\0".
std::string wire_text(const std::string& value);

FileJob file_job_from_wire(wire::runner::FileJob::Reader job);
void vm_spec_to_wire(const VmSpec& spec, wire::runner::VmOptions::Builder out);
void test_outcome_to_wire(const TestOutcome& outcome, wire::runner::TestOutcome::Builder out);
void file_outcome_to_wire(const FileOutcome& outcome, wire::runner::FileOutcome::Builder out);
VmInfo vm_info_from_wire(wire::runner::VmInfo::Reader info);
// A restore's nicMacs (6 bytes each; anything else is refused).
std::vector<std::array<std::uint8_t, 6>> nic_macs_from_wire(capnp::List<capnp::Data>::Reader macs);
void lab_snapshot_index_to_wire(const LabSnapshotIndex& index, wire::runner::LabSnapshotIndex::Builder out);
LabSnapshotIndex lab_snapshot_index_from_wire(wire::runner::LabSnapshotIndex::Reader index);

}  // namespace provium::runner
