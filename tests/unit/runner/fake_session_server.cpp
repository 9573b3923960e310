#include "fake_session_server.h"

#include <sys/socket.h>

#include <stdexcept>

namespace provium::runner::testing {
namespace {

namespace rpc = provium::wire::runner;

const char* status_text(rpc::TestStatus status) {
  switch (status) {
    case rpc::TestStatus::PASSED: return "passed";
    case rpc::TestStatus::FAILED: return "failed";
    case rpc::TestStatus::SKIPPED: return "skipped";
  }
  return "?";
}

std::string describe(rpc::TestOutcome::Reader outcome) {
  std::string text = std::string(outcome.getName().cStr()) + ": " + status_text(outcome.getStatus());
  if (outcome.getMessage().size() > 0) text += ": " + std::string(outcome.getMessage().cStr());
  return text;
}

capnp::Data::Reader as_data(const std::string& text) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(text.data()), text.size());
}

// An explicit size hint: with the default (an empty kj::Maybe) GCC's
// -Wmaybe-uninitialized misfires in sanitizer builds.
constexpr capnp::MessageSize kResultsSize{64, 2};

// A call the supervisor refuses, as the runner sees it: a remote exception.
kj::Promise<void> refused(const std::string& reason) {
  return kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__, kj::str(reason.c_str()));
}

// Carries the agent fd; the runner reads it with Capability::Client::getFd().
class FdChannel final : public rpc::AgentChannel::Server {
 public:
  explicit FdChannel(kj::AutoCloseFd fd) : fd_(kj::mv(fd)) {}
  kj::Maybe<int> getFd() override { return fd_.get(); }

 private:
  kj::AutoCloseFd fd_;
};

class FakeVm final : public rpc::Vm::Server {
 public:
  FakeVm(std::string name, SessionRecord& record) : name_(std::move(name)), record_(record) {}

  kj::Promise<void> boot(BootContext context) override {
    record_.vm_events.push_back("boot " + name_ + " cpus=" + std::to_string(context.getParams().getOptions().getCpus()));
    AgentPair pair = make_agent_pair();
    record_.agents.push_back(std::move(pair.agent));
    auto results = context.getResults(kResultsSize);
    results.setChannel(kj::heap<FdChannel>(kj::mv(pair.client_fd)));
    auto info = results.initInfo();
    info.setAccel("local");
    info.setCid(3);
    return kj::READY_NOW;
  }

  kj::Promise<void> shutdown(ShutdownContext) override {
    record_.vm_events.push_back("shutdown " + name_);
    return kj::READY_NOW;
  }

  kj::Promise<void> consoleTail(ConsoleTailContext context) override {
    context.getResults(kResultsSize).setText(as_data(std::string("console of ") + name_));
    return kj::READY_NOW;
  }

 private:
  std::string name_;
  SessionRecord& record_;
};

class FakeSession final : public rpc::Session::Server {
 public:
  FakeSession(const SessionScript& script, SessionRecord& record, kj::Own<kj::PromiseFulfiller<void>> on_finish)
      : script_(script), record_(record), on_finish_(kj::mv(on_finish)) {}

  kj::Promise<void> hello(HelloContext context) override {
    record_.runner_version = context.getParams().getRunnerVersion();
    auto results = context.getResults(kResultsSize);
    results.setSupervisorVersion(script_.supervisor_version);
    auto job = results.initJob();
    job.setDisplayPath("tests/e2e.test.lua");
    job.setChunkName(script_.chunk_name);
    job.setSource(as_data(script_.source));
    job.setTestHooks(script_.test_hooks);
    job.initFilter().setIncludeSlow(script_.include_slow);
    return kj::READY_NOW;
  }

  kj::Promise<void> loadModule(LoadModuleContext context) override {
    const std::string name = context.getParams().getName();
    const auto it = script_.modules.find(name);
    if (it == script_.modules.end()) return refused("no module named `" + name + "`");
    auto results = context.getResults(kResultsSize);
    results.setChunkName("@tests/" + name + ".lua");
    results.setSource(as_data(it->second));
    return kj::READY_NOW;
  }

  kj::Promise<void> createVm(CreateVmContext context) override {
    auto params = context.getParams();
    const std::string name = params.getName();
    const std::string profile = params.getProfile();
    if (profile != "peios") return refused("no profile named `" + profile + "`");
    record_.vm_events.push_back("create " + name + " " + profile);
    context.getResults(kResultsSize).setVm(kj::heap<FakeVm>(name, record_));
    return kj::READY_NOW;
  }

  kj::Promise<void> testStarted(TestStartedContext context) override {
    record_.events.push_back("started " + std::string(context.getParams().getName().cStr()));
    return kj::READY_NOW;
  }

  kj::Promise<void> testFinished(TestFinishedContext context) override {
    record_.events.push_back("finished " + describe(context.getParams().getOutcome()));
    return kj::READY_NOW;
  }

  kj::Promise<void> finish(FinishContext context) override {
    auto outcome = context.getParams().getOutcome();
    record_.finished = true;
    record_.has_chunk_error = outcome.getHasChunkError();
    record_.chunk_error = outcome.getChunkError();
    for (auto test : outcome.getTests()) record_.final_tests.push_back(describe(test));
    on_finish_->fulfill();
    return kj::READY_NOW;
  }

 private:
  SessionScript script_;
  SessionRecord& record_;
  kj::Own<kj::PromiseFulfiller<void>> on_finish_;
};

}  // namespace

kj::Own<wire::runner::Session::Server> make_fake_session(const SessionScript& script, SessionRecord& record,
                                                         kj::Own<kj::PromiseFulfiller<void>> on_finish) {
  return kj::heap<FakeSession>(script, record, kj::mv(on_finish));
}

}  // namespace provium::runner::testing
