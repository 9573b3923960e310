// A SupervisorLink without a supervisor: records progress reports, serves
// modules from a map, and hands out VMs whose agent is a FakeAgent on a
// socketpair. Unit tests only.
#pragma once

#include "fake_agent.h"

#include <file_runner.h>
#include <supervisor_link.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace provium::runner::testing {

struct FakeVmScript {
  AgentMisbehaviour misbehaviour = AgentMisbehaviour::none;
  std::optional<std::string> boot_error;   // the supervisor refuses to boot
  std::string console = "[    0.000000] Linux version fake\nfake login:";
  FakeAgent::RunHandler on_run;
};

struct FakeVmRecord {
  std::string name;
  std::string profile;
  VmSpec created_with;
  std::vector<VmSpec> booted_with;
  int shutdowns = 0;
  std::shared_ptr<FakeAgent> agent;   // the agent of the latest boot, kept after shutdown
};

class FakeSupervisor final : public SupervisorLink {
 public:
  std::map<std::string, ModuleSource> modules;
  std::map<std::string, FakeVmScript> scripts;   // by VM name
  std::vector<std::string> refused_profiles;
  std::vector<std::shared_ptr<FakeVmRecord>> vms;
  std::vector<std::string> events;               // "started x", "finished x: failed: msg"
  std::vector<TestOutcome> finished;
  int module_loads = 0;

  ModuleSource load_module(const std::string& name) override;
  std::unique_ptr<VmBackend> create_vm(const std::string& name, const std::string& profile,
                                       const VmSpec& spec) override;
  void test_started(const std::string& name) override;
  void test_finished(const TestOutcome& outcome) override;

  std::shared_ptr<FakeVmRecord> vm(const std::string& name) const;
};

// Runs `source` as tests/t.test.lua against `supervisor`.
FileOutcome run_lua_file(const std::string& source, FakeSupervisor& supervisor, TestFilter filter = {},
                         bool test_hooks = false);
// Same with a throwaway supervisor.
FileOutcome run_lua_file(const std::string& source, TestFilter filter = {});

const char* status_name(TestStatus status);

}  // namespace provium::runner::testing
