#include "fake_supervisor.h"

#include <algorithm>
#include <stdexcept>

namespace provium::runner::testing {
namespace {

class FakeVmBackend final : public VmBackend {
 public:
  FakeVmBackend(std::shared_ptr<FakeVmRecord> record, FakeVmScript script)
      : record_(std::move(record)), script_(std::move(script)) {}

  BootedVm boot(const VmSpec& spec, Deadline) override {
    record_->booted_with.push_back(spec);
    if (script_.boot_error) throw std::runtime_error(*script_.boot_error);
    AgentPair pair = make_agent_pair(script_.misbehaviour, script_.on_run);
    record_->agent = std::move(pair.agent);
    return BootedVm{std::move(pair.client_fd), VmInfo{"tcg", 42, 256u << 20}};
  }
  // Like the supervisor's built-in profile.
  std::optional<VmResources> default_resources() const override { return VmResources{256u << 20, 1}; }

  // The agent stays in the record for inspection; the runner closing its end
  // is what ends the agent's thread.
  void shutdown() override { ++record_->shutdowns; }

  std::string console_tail(std::uint32_t max_bytes) override {
    const std::string& console = script_.console;
    return console.size() <= max_bytes ? console : console.substr(console.size() - max_bytes);
  }

 private:
  std::shared_ptr<FakeVmRecord> record_;
  FakeVmScript script_;
};

}  // namespace

ModuleSource FakeSupervisor::load_module(const std::string& name) {
  ++module_loads;
  const auto it = modules.find(name);
  if (it == modules.end()) throw std::runtime_error("no module `" + name + "` under the test roots");
  return it->second;
}

std::unique_ptr<VmBackend> FakeSupervisor::create_vm(const std::string& name, const std::string& profile,
                                                     const VmSpec& spec) {
  if (std::find(refused_profiles.begin(), refused_profiles.end(), profile) != refused_profiles.end()) {
    throw std::runtime_error("unknown profile `" + profile + "`");
  }
  auto record = std::make_shared<FakeVmRecord>();
  record->name = name;
  record->profile = profile;
  record->created_with = spec;
  vms.push_back(record);
  const auto script = scripts.find(name);
  return std::make_unique<FakeVmBackend>(record, script != scripts.end() ? script->second : FakeVmScript{});
}

void FakeSupervisor::test_started(const std::string& name) { events.push_back("started " + name); }

void FakeSupervisor::test_finished(const TestOutcome& outcome) {
  events.push_back("finished " + outcome.name + ": " + status_name(outcome.status));
  finished.push_back(outcome);
}

std::shared_ptr<FakeVmRecord> FakeSupervisor::vm(const std::string& name) const {
  for (auto it = vms.rbegin(); it != vms.rend(); ++it) {
    if ((*it)->name == name) return *it;
  }
  return nullptr;
}

const char* status_name(TestStatus status) {
  switch (status) {
    case TestStatus::passed: return "passed";
    case TestStatus::failed: return "failed";
    case TestStatus::skipped: return "skipped";
  }
  return "?";
}

FileOutcome run_lua_file(const std::string& source, FakeSupervisor& supervisor, TestFilter filter, bool test_hooks) {
  FileJob job;
  job.display_path = "tests/t.test.lua";
  job.chunk_name = "@tests/t.test.lua";
  job.source = source;
  job.filter = std::move(filter);
  job.test_hooks = test_hooks;
  return run_test_file(job, supervisor, FileRunnerOptions{64u << 20});
}

FileOutcome run_lua_file(const std::string& source, TestFilter filter) {
  FakeSupervisor supervisor;
  return run_lua_file(source, supervisor, std::move(filter));
}

}  // namespace provium::runner::testing
