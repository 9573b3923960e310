#include "rpc_convert.h"

#include <algorithm>
#include <stdexcept>

namespace provium::runner {
namespace {

std::string text(capnp::Text::Reader reader) { return std::string(reader.cStr(), reader.size()); }

std::string bytes(capnp::Data::Reader reader) {
  return std::string(reinterpret_cast<const char*>(reader.begin()), reader.size());
}

capnp::Data::Reader as_data(const std::string& value) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(value.data()), value.size());
}

std::vector<std::string> texts(capnp::List<capnp::Text>::Reader list) {
  std::vector<std::string> out;
  for (auto item : list) out.push_back(text(item));
  return out;
}

std::vector<std::pair<std::string, std::string>> pairs(capnp::List<wire::runner::KeyValue>::Reader list) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto item : list) out.emplace_back(text(item.getKey()), text(item.getValue()));
  return out;
}

wire::runner::TestStatus status_to_wire(TestStatus status) {
  switch (status) {
    case TestStatus::passed: return wire::runner::TestStatus::PASSED;
    case TestStatus::failed: return wire::runner::TestStatus::FAILED;
    case TestStatus::skipped: return wire::runner::TestStatus::SKIPPED;
  }
  return wire::runner::TestStatus::FAILED;
}

}  // namespace

std::string wire_text(const std::string& value) {
  if (value.find('\0') == std::string::npos) return value;
  std::string out;
  for (const char c : value) {
    if (c == '\0') out += "\\0";
    else out += c;
  }
  return out;
}

FileJob file_job_from_wire(wire::runner::FileJob::Reader job) {
  FileJob out;
  out.display_path = text(job.getDisplayPath());
  out.chunk_name = text(job.getChunkName());
  out.source = bytes(job.getSource());
  auto filter = job.getFilter();
  out.filter.include_slow = filter.getIncludeSlow();
  out.filter.tags = texts(filter.getTags());
  out.filter.no_tags = texts(filter.getNoTags());
  out.filter.tag_meta = pairs(filter.getTagMeta());
  out.filter.no_tag_meta = pairs(filter.getNoTagMeta());
  out.test_hooks = job.getTestHooks();
  out.fixture = job.getFixture();
  return out;
}

void vm_spec_to_wire(const VmSpec& spec, wire::runner::VmOptions::Builder out) {
  out.setMemoryBytes(spec.memory_bytes.value_or(0));
  out.setCpus(spec.cpus.value_or(0));
  out.setKernelCmdline(spec.kernel_cmdline.value_or(""));
  out.setHasRngSeed(spec.rng_seed.has_value());
  out.setRngSeed(spec.rng_seed.value_or(0));
  out.setHasInitialTime(spec.initial_time_ns.has_value());
  out.setInitialTimeNs(spec.initial_time_ns.value_or(0));
  auto files = out.initFiles(static_cast<unsigned>(spec.files.size()));
  for (unsigned i = 0; i < files.size(); ++i) {
    files[i].setPath(spec.files[i].path);
    files[i].setContent(as_data(spec.files[i].content));
  }
}

void test_outcome_to_wire(const TestOutcome& outcome, wire::runner::TestOutcome::Builder out) {
  out.setName(wire_text(outcome.name));
  out.setStatus(status_to_wire(outcome.status));
  out.setMessage(wire_text(outcome.message));
  auto log = out.initLog(static_cast<unsigned>(outcome.log.size()));
  for (unsigned i = 0; i < log.size(); ++i) log.set(i, wire_text(outcome.log[i]));
  out.setDurationNs(outcome.duration_ns);
}

void file_outcome_to_wire(const FileOutcome& outcome, wire::runner::FileOutcome::Builder out) {
  out.setHasChunkError(outcome.has_chunk_error);
  out.setChunkError(wire_text(outcome.chunk_error));
  out.setFixtureSnapshot(wire_text(outcome.fixture_snapshot));
  auto tests = out.initTests(static_cast<unsigned>(outcome.tests.size()));
  for (unsigned i = 0; i < tests.size(); ++i) test_outcome_to_wire(outcome.tests[i], tests[i]);
}

VmInfo vm_info_from_wire(wire::runner::VmInfo::Reader info) {
  return VmInfo{text(info.getAccel()), info.getCid(), info.getMemoryBytes()};
}

std::vector<std::array<std::uint8_t, 6>> nic_macs_from_wire(capnp::List<capnp::Data>::Reader macs) {
  std::vector<std::array<std::uint8_t, 6>> out;
  for (auto mac : macs) {
    std::array<std::uint8_t, 6> value{};
    if (mac.size() != value.size()) {
      throw std::runtime_error("restore: the supervisor sent a MAC address of " + std::to_string(mac.size()) + " bytes");
    }
    std::copy(mac.begin(), mac.end(), value.begin());
    out.push_back(value);
  }
  return out;
}

void lab_snapshot_index_to_wire(const LabSnapshotIndex& index, wire::runner::LabSnapshotIndex::Builder out) {
  auto bridges = out.initBridges(static_cast<unsigned>(index.bridges.size()));
  for (unsigned i = 0; i < bridges.size(); ++i) bridges.set(i, index.bridges[i]);
  auto vms = out.initVms(static_cast<unsigned>(index.vms.size()));
  for (unsigned i = 0; i < vms.size(); ++i) {
    const LabSnapshotVmEntry& vm = index.vms[i];
    vms[i].setName(vm.name);
    vms[i].setProfile(vm.profile);
    vms[i].setFile(vm.file);
    vms[i].setPaused(vm.paused);
    auto nics = vms[i].initNics(static_cast<unsigned>(vm.nics.size()));
    for (unsigned j = 0; j < nics.size(); ++j) {
      nics[j].setBridge(vm.nics[j].bridge);
      nics[j].setSlot(vm.nics[j].slot);
    }
  }
}

LabSnapshotIndex lab_snapshot_index_from_wire(wire::runner::LabSnapshotIndex::Reader index) {
  LabSnapshotIndex out;
  out.bridges = texts(index.getBridges());
  for (auto vm : index.getVms()) {
    LabSnapshotVmEntry entry{text(vm.getName()), text(vm.getProfile()), text(vm.getFile()), vm.getPaused(), {}};
    for (auto nic : vm.getNics()) entry.nics.push_back(LabSnapshotNicEntry{text(nic.getBridge()), nic.getSlot()});
    out.vms.push_back(std::move(entry));
  }
  return out;
}

}  // namespace provium::runner
