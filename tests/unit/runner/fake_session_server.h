// An in-process stand-in for the supervisor's side of ipc/runner.capnp, used
// to drive the real provium-runner binary end to end: it serves Session as
// the bootstrap capability, hands out VMs whose AgentChannel carries the fd of
// a FakeAgent socketpair, and records what the runner reported. Unit tests
// only.
#pragma once

#include "fake_agent.h"

#include <runner.capnp.h>

#include <kj/async.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace provium::runner::testing {

struct SessionScript {
  std::uint32_t supervisor_version = wire::runner::PROTOCOL_VERSION;
  std::string chunk_name = "@tests/e2e.test.lua";
  std::string source;
  bool test_hooks = false;
  bool include_slow = false;
  std::map<std::string, std::string> modules;   // name -> source
};

struct SessionRecord {
  std::uint32_t runner_version = 0;
  std::vector<std::string> events;              // "started x", "finished x: failed: message"
  bool finished = false;
  bool has_chunk_error = false;
  std::string chunk_error;
  std::vector<std::string> final_tests;         // "name: status: message"
  std::vector<std::string> vm_events;           // "create a peios", "boot a", "shutdown a"
  std::vector<std::shared_ptr<FakeAgent>> agents;
};

// `record` must outlive the server; `on_finish` is fulfilled by finish().
kj::Own<wire::runner::Session::Server> make_fake_session(const SessionScript& script, SessionRecord& record,
                                                         kj::Own<kj::PromiseFulfiller<void>> on_finish);

}  // namespace provium::runner::testing
