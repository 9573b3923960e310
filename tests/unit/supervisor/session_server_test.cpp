// The Session as a hostile runner sees it, called in-process.
#include "session_server.h"
#include "vm_launcher.h"

#include <gtest/gtest.h>

#include <sstream>

#include "event_frame.h"
#include "temp_dir.h"

namespace provium {
namespace {

namespace fs = std::filesystem;
namespace wire = wire::runner;
using testing::TempDir;

class Session : public ::testing::Test {
 protected:
  Session() {
    config_.profiles["fast"] = Profile{.name = "fast", .kernel = "/k", .initrd = "/i", .cmdline = "quiet"};
    config_.profiles["default"] = Profile{.name = "default", .unavailable = "the bundled guest was not found"};
    dir_.write("tests/helpers/net.lua", "return 1");
    dir_.write("secret.lua", "return 'secret'");
    job_.display_path = "tests/x.test.lua";
    job_.source = "test('x', function() end)";
    job_.selection.tags = {"smoke"};
    job_.selection.tag_meta = {{"area", "boot"}};
    job_.test_hooks = true;
    job_.module_roots = {dir_.path() / "tests"};
    job_.cwd = dir_.path();
  }
  // kj members may throw from destructors; gtest's fixture base may not.
  ~Session() noexcept override {}

  std::string error_of(kj::Promise<void> call) {
    try {
      call.wait(io_.waitScope);
    } catch (const kj::Exception& error) {
      return error.getDescription().cStr();
    }
    return "";
  }

  void hello() {
    auto request = client_.helloRequest();
    request.setRunnerVersion(wire::PROTOCOL_VERSION);
    request.send().wait(io_.waitScope);
  }

  // Keeps the Vm capability: dropping it releases the VM.
  kj::Promise<void> create_vm(const std::string& name, const std::string& profile) {
    auto request = client_.createVmRequest();
    request.setName(name);
    request.setProfile(profile);
    return request.send().then([this](auto reply) { vms_.push_back(reply.getVm()); });
  }

  TempDir dir_;
  kj::AsyncIoContext io_ = kj::setupAsyncIo();
  Config config_;
  VmLauncher launcher_{io_, VmHostSettings{}};
  VmServices services_{config_, launcher_, 2};
  FileJobSpec job_;
  FileProgress progress_;
  TestNetwork network_{[] { return make_file_network(NetDatapath::user); }};
  VmCapabilitySet vm_servers_;
  SnapshotPlaces snapshots_{dir_.path() / "snapshots", "session-test"};
  VmFleet fleet_;
  int finish_calls_ = 0;
  std::vector<wire::Vm::Client> vms_;
  wire::Session::Client client_ = kj::heap<SessionServer>(job_, progress_, fleet_, network_, vm_servers_, snapshots_, services_,
                                                          [this]() { ++finish_calls_; });
};

// Keeps every frame, decoded.
class RecordingSink final : public EventSink {
 public:
  explicit RecordingSink(std::vector<Event>& events) : events_(events) {}
  void write(std::string_view frame) override {
    std::size_t consumed = 0;
    events_.push_back(decode_event_frame(frame, consumed));
  }

 private:
  std::vector<Event>& events_;
};

class SessionEvents : public Session {
 protected:
  SessionEvents() {
    stream_.add_sink(std::make_unique<RecordingSink>(events_));
    services_.events = &stream_;
  }
  ~SessionEvents() noexcept override {}

  kj::Promise<void> claim(bool has_memory, std::uint64_t memory, bool has_cpus, std::uint32_t cpus) {
    auto request = client_.claimRequest();
    auto amount = request.initAmount();
    amount.setHasMemoryBytes(has_memory);
    amount.setMemoryBytes(memory);
    amount.setHasCpus(has_cpus);
    amount.setCpus(cpus);
    return request.send().ignoreResult();
  }
  void finished(const std::string& name, wire::TestStatus status, const std::string& message) {
    auto request = client_.testFinishedRequest();
    auto outcome = request.initOutcome();
    outcome.setName(name);
    outcome.setStatus(status);
    outcome.setMessage(message);
    outcome.setDurationNs(7);
    request.send().wait(io_.waitScope);
  }
  std::vector<std::string> kinds() const {
    std::vector<std::string> out;
    for (const auto& event : events_) out.push_back(event.kind);
    return out;
  }

  std::ostringstream notes_;
  EventStream stream_{notes_};
  std::vector<Event> events_;
};

TEST_F(SessionEvents, AClaimIsCheckedRecordedAndEmittedOnce) {
  EXPECT_EQ(error_of(claim(true, 1, true, 1)), "claim: hello() must be the first call");
  hello();
  EXPECT_NE(error_of(claim(true, (std::uint64_t{1} << 50) + 1, false, 0)).find("more than the"), std::string::npos);
  EXPECT_NE(error_of(claim(false, 0, true, 5000)).find("5000 CPUs is more than"), std::string::npos);
  EXPECT_FALSE(progress_.claim);
  EXPECT_EQ(error_of(claim(true, 512u << 20, false, 0)), "");
  ASSERT_TRUE(progress_.claim);
  EXPECT_EQ(progress_.claim->memory_bytes, 512u << 20);
  EXPECT_FALSE(progress_.claim->cpus);
  EXPECT_EQ(error_of(claim(true, 1, true, 1)), "claim: this file already made its claim");
  ASSERT_EQ(kinds(), std::vector<std::string>{"claim_acquired"});
  const EventMap& payload = events_[0].payload;
  EXPECT_EQ(payload[0].key, "path");
  EXPECT_EQ(std::get<std::string>(payload[0].value.value), "tests/x.test.lua");
  const auto& amount = std::get<EventMap>(payload[1].value.value);
  ASSERT_EQ(amount.size(), 1u);
  EXPECT_EQ(amount[0].key, "memory_bytes");
}

TEST_F(SessionEvents, NoClaimWhileATestRuns) {
  hello();
  auto started = client_.testStartedRequest();
  started.setName("t");
  started.send().wait(io_.waitScope);
  EXPECT_NE(error_of(claim(false, 0, true, 1)).find("cannot be made while a test runs"), std::string::npos);
  EXPECT_EQ(kinds(), std::vector<std::string>{"test_started"});
}

TEST_F(SessionEvents, EveryTestStartsOnceAndEndsOnce) {
  hello();
  auto started = client_.testStartedRequest();
  started.setName("runs");
  started.send().wait(io_.waitScope);
  finished("runs", wire::TestStatus::PASSED, "");
  // Skipped before it started: the start is emitted for it.
  finished("filtered", wire::TestStatus::SKIPPED, "filtered: slow");
  EXPECT_EQ(kinds(), (std::vector<std::string>{"test_started", "test_passed", "test_started", "test_skipped"}));
  EXPECT_EQ(std::get<std::string>(events_[3].payload[1].value.value), "filtered");
  EXPECT_EQ(std::get<std::string>(events_[3].payload[2].value.value), "filtered: slow");
  EXPECT_EQ(std::get<std::uint64_t>(events_[1].payload[2].value.value), 7u);
}

// A runner names snapshot files; nothing outside snapshot_dir is touched.
TEST_F(Session, SnapshotFilesOutsideTheSnapshotDirAreRefused) {
  hello();
  const auto outside = dir_.write("outside.snap", "keep me");
  auto remove = client_.deleteSnapshotRequest();
  remove.setPath(outside.string());
  try {
    remove.send().wait(io_.waitScope);
    ADD_FAILURE() << "deleteSnapshot outside snapshot_dir was accepted";
  } catch (const kj::Exception& error) {
    EXPECT_NE(std::string(error.getDescription().cStr()).find("outside snapshot_dir"), std::string::npos)
        << error.getDescription().cStr();
  }
  EXPECT_TRUE(std::filesystem::exists(outside));
  auto info = client_.snapshotInfoRequest();
  info.setPath("never-written.snap");
  auto reply = info.send().wait(io_.waitScope);
  EXPECT_FALSE(reply.getExists());
  EXPECT_EQ(reply.getSize(), 0u);
}

// A second file's session: its VMs must be useless to the first one's bridges.
TEST_F(Session, BridgesRefuseAnotherSessionsVms) {
  hello();
  FileProgress other_progress;
  TestNetwork other_network{[] { return make_file_network(NetDatapath::user); }};
  VmCapabilitySet other_servers;
  VmFleet other_fleet;
  wire::Session::Client other = kj::heap<SessionServer>(job_, other_progress, other_fleet, other_network,
                                                        other_servers, snapshots_, services_, [] {});
  auto hi = other.helloRequest();
  hi.setRunnerVersion(wire::PROTOCOL_VERSION);
  hi.send().wait(io_.waitScope);
  auto create = other.createVmRequest();
  create.setName("foreign");
  create.setProfile("fast");
  wire::Vm::Client foreign = create.send().wait(io_.waitScope).getVm();

  auto bridge_request = client_.createBridgeRequest();
  bridge_request.setName("lan");
  wire::Bridge::Client bridge = bridge_request.send().wait(io_.waitScope).getBridge();
  auto attach = bridge.attachRequest();
  attach.initVms(1).set(0, foreign);
  EXPECT_EQ(error_of(attach.send().ignoreResult()),
            "bridge `lan`: attach: a VM capability that is not one of this file's VMs");

  auto bad = client_.createBridgeRequest();
  bad.setName("no spaces");
  EXPECT_NE(error_of(bad.send().ignoreResult()).find("bad bridge name"), std::string::npos);
}

TEST_F(Session, EverythingNeedsHelloFirst) {
  auto started = client_.testStartedRequest();
  started.setName("t");
  EXPECT_EQ(error_of(started.send().ignoreResult()), "testStarted: hello() must be the first call");
  EXPECT_NE(error_of(create_vm("v", "fast")).find("hello() must be the first call"), std::string::npos);
  EXPECT_FALSE(progress_.running);
}

TEST_F(Session, HelloRefusesAnotherVersionNamingBoth) {
  auto request = client_.helloRequest();
  request.setRunnerVersion(wire::PROTOCOL_VERSION + 6);
  const std::string error = error_of(request.send().ignoreResult());
  EXPECT_NE(error.find(std::to_string(wire::PROTOCOL_VERSION + 6)), std::string::npos) << error;
  EXPECT_NE(error.find("supervisor's version " + std::to_string(wire::PROTOCOL_VERSION)), std::string::npos) << error;
  EXPECT_FALSE(progress_.greeted);
}

TEST_F(Session, HelloHandsOutTheJob) {
  auto request = client_.helloRequest();
  request.setRunnerVersion(wire::PROTOCOL_VERSION);
  auto reply = request.send().wait(io_.waitScope);
  EXPECT_EQ(reply.getSupervisorVersion(), wire::PROTOCOL_VERSION);
  auto job = reply.getJob();
  EXPECT_EQ(std::string(job.getDisplayPath().cStr()), "tests/x.test.lua");
  EXPECT_EQ(std::string(job.getChunkName().cStr()), "@tests/x.test.lua");
  EXPECT_EQ(std::string(job.getSource().asChars().begin(), job.getSource().size()), job_.source);
  EXPECT_TRUE(job.getTestHooks());
  ASSERT_EQ(job.getFilter().getTags().size(), 1u);
  EXPECT_EQ(std::string(job.getFilter().getTags()[0].cStr()), "smoke");
  EXPECT_EQ(std::string(job.getFilter().getTagMeta()[0].getValue().cStr()), "boot");
  EXPECT_NE(error_of(client_.helloRequest().send().ignoreResult()).find("called twice"), std::string::npos);
}

TEST_F(Session, LoadModuleStaysInsideTheRoots) {
  hello();
  auto good = client_.loadModuleRequest();
  good.setName("helpers.net");
  auto reply = good.send().wait(io_.waitScope);
  EXPECT_EQ(std::string(reply.getChunkName().cStr()), "@tests/helpers/net.lua");
  auto bad = client_.loadModuleRequest();
  bad.setName("../secret");
  EXPECT_NE(error_of(bad.send().ignoreResult()).find("`..` is not allowed"), std::string::npos);
}

TEST_F(Session, CreateVmChecksNamesProfilesAndTheCap) {
  hello();
  EXPECT_NE(error_of(create_vm("bad name", "fast")).find("bad VM name"), std::string::npos);
  const std::string unknown = error_of(create_vm("v", "nope"));
  EXPECT_NE(unknown.find("unknown profile `nope`; known profiles: default, fast"), std::string::npos) << unknown;
  EXPECT_NE(error_of(create_vm("v", "default")).find("bundled guest was not found"), std::string::npos);
  for (std::size_t i = 0; i < VmFleet::kMaxLiveVms; ++i) EXPECT_EQ(error_of(create_vm("v", "fast")), "");
  EXPECT_EQ(fleet_.live(), VmFleet::kMaxLiveVms);
  EXPECT_NE(error_of(create_vm("v", "fast")).find("limit"), std::string::npos);
  vms_.pop_back();  // the runner lets go of one VM: it no longer counts
  io_.waitScope.poll();
  EXPECT_EQ(fleet_.live(), VmFleet::kMaxLiveVms - 1);
  EXPECT_EQ(error_of(create_vm("v", "fast")), "");
}

TEST_F(Session, ProgressAndFinish) {
  hello();
  auto started = client_.testStartedRequest();
  started.setName("first");
  started.send().wait(io_.waitScope);
  EXPECT_EQ(progress_.running, "first");
  auto finished = client_.testFinishedRequest();
  auto outcome = finished.initOutcome();
  outcome.setName("first");
  outcome.setStatus(wire::TestStatus::FAILED);
  outcome.setMessage(std::string(100'000, 'm'));
  finished.send().wait(io_.waitScope);
  EXPECT_FALSE(progress_.running);
  ASSERT_EQ(progress_.finished.size(), 1u);
  EXPECT_LT(progress_.finished[0].message.size(), 70'000u) << "messages are capped";

  auto finish = client_.finishRequest();
  finish.initOutcome().setHasChunkError(true);
  finish.getOutcome().setChunkError("x.lua:1: boom");
  finish.send().wait(io_.waitScope);
  EXPECT_TRUE(progress_.finish_received);
  EXPECT_EQ(progress_.chunk_error, "x.lua:1: boom");
  EXPECT_EQ(finish_calls_, 1);
  EXPECT_NE(error_of(client_.finishRequest().send().ignoreResult()).find("already called"), std::string::npos);
}

}  // namespace
}  // namespace provium
