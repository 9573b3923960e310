// Labs: the provium global, scopes, sub-labs, membership, claims, barriers, close order.
#include "fake_supervisor.h"
#include "lua_test_helpers.h"

#include <lab.h>
#include <test_clock.h>

#include <gtest/gtest.h>

namespace provium::runner::testing {
namespace {

TEST(Lab, DeclaresAndLooksUpVms) {
  FakeSupervisor supervisor;
  const FileOutcome file = run_lua_file(R"lua(
local shared = provium:vm("shared", "peios", {memory = "512M", cpus = 2})
test("lookups", function(t)
  t:assert_eq(provium:vm("shared"), shared)
  t:assert_eq(provium.shared, shared)
  t:assert_eq(provium.unknown, nil)
  t:assert_eq(shared:name(), "shared")
  t:assert_eq(shared:profile(), "peios")
  t:assert_eq(shared:state(), "created")
  t:assert_eq(shared:cid(), nil)
  t:assert_contains(tostring(shared), "vm `shared` (created)")
end)
test("absent lookup", function(t) provium:vm("nope") end)
)lua", supervisor);
  EXPECT_EQ(outcome_named(file, "lookups").status, TestStatus::passed) << outcome_named(file, "lookups").message;
  EXPECT_NE(outcome_named(file, "absent lookup").message.find("no VM named `nope` in scope"), std::string::npos);
  const auto shared = supervisor.vm("shared");
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->profile, "peios");
  EXPECT_EQ(shared->created_with.memory_bytes, 512u << 20);
  EXPECT_EQ(shared->created_with.cpus, 2u);
  // Closed at file end.
  EXPECT_EQ(shared->shutdowns, 1);
}

TEST(Lab, TestScopeVmsCloseAfterTheirTest) {
  FakeSupervisor supervisor;
  const FileOutcome file = run_lua_file(R"lua(
local shared = provium:vm("shared", "peios")
test("first", function(t)
  local v = provium:vm("local", "peios")
  t:assert_eq(provium:vm("shared"), shared)  -- falls through to file scope
  t:assert_eq(provium["local"], v)
end)
test("second reuses the name", function(t)
  local v = provium:vm("local", "peios")
  t:assert_eq(v:state(), "created")
end)
test("gone after its test", function(t)
  t:assert_eq(provium["local"], nil)
end)
test("shadowing is refused", function(t)
  provium:vm("shared", "peios")
end)
test("duplicate in one scope", function(t)
  provium:vm("twice", "peios")
  provium:vm("twice", "peios")
end)
)lua", supervisor);
  EXPECT_EQ(outcome_named(file, "first").status, TestStatus::passed) << outcome_named(file, "first").message;
  EXPECT_EQ(outcome_named(file, "second reuses the name").status, TestStatus::passed);
  EXPECT_EQ(outcome_named(file, "gone after its test").status, TestStatus::passed);
  EXPECT_NE(outcome_named(file, "shadowing is refused")
                .message.find("provium:vm: `shared` is declared at file scope already (lab `provium`), and a test "
                              "may not declare the same name again. To use that one, look it up with "
                              "provium:vm(\"shared\"); for a separate one, choose another name."),
            std::string::npos)
      << outcome_named(file, "shadowing is refused").message;
  EXPECT_NE(outcome_named(file, "duplicate in one scope").message.find("DuplicateVmName: lab `provium` already has a VM named `twice`"),
            std::string::npos);
  int local_vms = 0;
  for (const auto& vm : supervisor.vms) {
    EXPECT_EQ(vm->shutdowns, 1) << vm->name;
    if (vm->name == "local") ++local_vms;
  }
  EXPECT_EQ(local_vms, 2);
}

TEST(Lab, FileSettingsAndMisuse) {
  FakeSupervisor supervisor;
  supervisor.refused_profiles = {"nope"};
  const FileOutcome file = run_lua_file(R"lua(
provium.reset_between_tests = false
test("settings read back", function(t)
  t:assert_eq(provium.reset_between_tests, false)
  t:assert_eq(provium.timeout, nil)
end)
test("reset in a test is refused", function(t) provium.reset_between_tests = true end)
test("unknown assignment", function(t) provium.foo = 1 end)
test("refused profile", function(t) provium:vm("a", "nope") end)
test("dot instead of colon", function(t) provium.vm("a", "peios") end)
test("reserved name", function(t) provium:vm("pack", "peios") end)
test("restore of nothing", function(t) provium:restore(42) end)
test("bad option", function(t) provium:vm("a", "peios", {memroy = 1}) end)
test("bad memory", function(t) provium:vm("a", "peios", {memory = "lots"}) end)
)lua", supervisor);
  EXPECT_EQ(outcome_named(file, "settings read back").status, TestStatus::passed)
      << outcome_named(file, "settings read back").message;
  EXPECT_NE(outcome_named(file, "reset in a test is refused").message.find("is a file setting: set it at the file's top level"),
            std::string::npos)
      << outcome_named(file, "reset in a test is refused").message;
  EXPECT_NE(outcome_named(file, "unknown assignment").message.find("provium.foo cannot be assigned"), std::string::npos);
  EXPECT_NE(outcome_named(file, "refused profile")
                .message.find("provium:vm: cannot create `a` (profile `nope`): unknown profile `nope`"),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "dot instead of colon").message.find("with `:`"), std::string::npos);
  EXPECT_NE(outcome_named(file, "reserved name").message.find("`pack` is a reserved name"), std::string::npos);
  EXPECT_NE(outcome_named(file, "restore of nothing").message.find("provium:restore: expected a LabSnapshot or a directory path, got number"),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "bad option").message.find("unknown option `memroy`"), std::string::npos);
  EXPECT_NE(outcome_named(file, "bad memory").message.find("bad size `lots`"), std::string::npos);
}

TEST(Lab, SubLabsQualifyNamesTowardsTheSupervisor) {
  FakeSupervisor supervisor;
  const FileOutcome file = run_lua_file(R"lua(
local dc1 = provium:lab("dc1")
local a = dc1:vm("a", "peios")
local dc2 = provium:lab("dc2")
dc2:vm("a", "peios")
local anon = provium:lab()
local sub_labs = provium:sub_lab_names()
local members = provium:members()
test("graph", function(t)
  t:assert_eq(dc1:name(), "dc1")
  t:assert_eq(anon:name(), "__lab_0")
  t:assert_eq(provium.dc1, dc1)
  t:assert_eq(dc1.a, a)
  t:assert_eq(dc1:vm("a"), a)
  t:assert_eq(a:name(), "dc1.a")
  t:assert_eq(dc2.a:name(), "dc2.a")
  t:assert_eq(dc1.dc2, nil)           -- federation: no fall-through
  t:assert_eq(provium.a, nil)
  t:assert_eq(table.concat(sub_labs, ","), "dc1,dc2,__lab_0")
  t:assert_eq(#provium:sub_lab_names(), 0)  -- the test's own scope
  t:assert_eq(dc1:vm_names()[1], "a")
  t:assert_eq(members[1].kind, "sub_lab")
  t:assert_eq(members[1].name, "dc1")
end)
test("a sub-lab made in a test goes with it", function(t)
  local tmp = provium:lab("tmp")
  tmp:vm("x", "peios")
  t:assert_eq(provium.tmp, tmp)
  dc1:include(tmp.x)
end)
test("after", function(t)
  t:assert_eq(provium.tmp, nil)
  t:assert_eq(dc1.x, nil)
end)
test("duplicate in sub-lab", function(t) dc1:vm("a", "peios") end)
test("shadowing a sub-lab", function(t) provium:lab("dc1") end)
test("reserved", function(t) dc1:vm("boot", "peios") end)
)lua", supervisor);
  for (const char* name : {"graph", "a sub-lab made in a test goes with it", "after"}) {
    EXPECT_EQ(outcome_named(file, name).status, TestStatus::passed) << name << ": " << outcome_named(file, name).message;
  }
  EXPECT_TRUE(supervisor.vm("dc1.a"));
  EXPECT_TRUE(supervisor.vm("dc2.a"));
  EXPECT_TRUE(supervisor.vm("tmp.x"));
  EXPECT_EQ(supervisor.vm("tmp.x")->shutdowns, 1);
  EXPECT_NE(outcome_named(file, "duplicate in sub-lab").message.find("DuplicateVmName: lab `dc1` already has a VM named `a`"),
            std::string::npos) << outcome_named(file, "duplicate in sub-lab").message;
  EXPECT_NE(outcome_named(file, "shadowing a sub-lab").message.find("`dc1` is declared at file scope already"),
            std::string::npos) << outcome_named(file, "shadowing a sub-lab").message;
  EXPECT_NE(outcome_named(file, "reserved").message.find("`boot` is a reserved name"), std::string::npos);
}

TEST(Lab, IncludeAndRemoveAreGraphOnly) {
  FakeSupervisor supervisor;
  const FileOutcome file = run_lua_file(R"lua(
local v = provium:vm("v", "peios")
local sub = provium:lab("sub")
sub:include(v)
provium:remove(v)
test("move", function(t)
  t:assert_eq(sub.v, v)
  t:assert_eq(provium.v, nil)
  t:assert_eq(v:state(), "created")
  sub:remove("v")
  t:assert_eq(sub.v, nil)
  provium:include({v})
  t:assert_eq(provium.v, v)      -- in the test's scope now
  local w = sub:lab("w")
  t:assert_eq(sub.w, w)
end)
test("after move", function(t)
  t:assert_eq(provium.v, nil)    -- the test scope went, v stays (file-owned)
  t:assert_eq(v:state(), "created")
  t:assert_eq(sub.w, nil)        -- made during the test, gone with it
end)
test("include twice", function(t) sub:include({v, v}) end)
test("cycle", function(t) sub:include(sub) end)
test("remove unknown", function(t) sub:remove("nothing") end)
test("include junk", function(t) sub:include(42) end)
)lua", supervisor);
  EXPECT_EQ(outcome_named(file, "move").status, TestStatus::passed) << outcome_named(file, "move").message;
  EXPECT_EQ(outcome_named(file, "after move").status, TestStatus::passed) << outcome_named(file, "after move").message;
  EXPECT_NE(outcome_named(file, "include twice").message.find("DuplicateVmName: lab `sub` already has a VM named `v`"),
            std::string::npos) << outcome_named(file, "include twice").message;
  EXPECT_NE(outcome_named(file, "cycle").message.find("cannot be included"), std::string::npos);
  EXPECT_NE(outcome_named(file, "remove unknown").message.find("has no VM, bridge or sub-lab named `nothing`"),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "include junk").message.find("must be a VM, a bridge or a sub-lab, got number"),
            std::string::npos) << outcome_named(file, "include junk").message;
}

TEST(Lab, ClaimsRefuseBootsBeyondThem) {
  FakeSupervisor supervisor;
  const FileOutcome file = run_lua_file(R"lua(
provium:claim({memory = "300M", cpus = 2})
local a = provium:vm("a", "peios")
local b = provium:vm("b", "peios")
test("second boot is refused", function(t)
  a:boot()
  local err = t:assert_raises(function() b:boot() end)
  t:assert_contains(err, "vm `b`: boot refused")
  t:assert_eq(b:state(), "created")
  a:shutdown()
  b:boot()
  t:assert_eq(b:state(), "booted")
end)
test("claim twice", function(t) provium:claim({cpus = 1}) end)
test("a batch boot counts the guests it launched", function(t)
  b:shutdown()
  local pair = provium:lab("pair")
  local x = pair:vm("x", "peios")
  local y = pair:vm("y", "peios")
  local err = t:assert_raises(function() pair:boot() end)
  t:assert_contains(err, "lab `pair`:boot: vm `pair.y`: boot refused")
  t:assert_eq(x:state(), "booted")   -- launched before the refusal, then greeted
  t:assert_eq(y:state(), "created")
  x:run("true")
end)
)lua", supervisor);
  EXPECT_EQ(outcome_named(file, "second boot is refused").status, TestStatus::passed)
      << outcome_named(file, "second boot is refused").message;
  EXPECT_NE(outcome_named(file, "claim twice").message.find("claim already taken"), std::string::npos);
  EXPECT_EQ(outcome_named(file, "a batch boot counts the guests it launched").status, TestStatus::passed)
      << outcome_named(file, "a batch boot counts the guests it launched").message;
  ASSERT_TRUE(supervisor.vm("b"));
  EXPECT_EQ(supervisor.vm("b")->booted_with.size(), 1u);
}

TEST(Lab, BarrierReleasesWhenCountArrives) {
  FakeSupervisor supervisor;
  const FileOutcome file = run_lua_file(R"lua(
test("two coroutines", function(t)
  local order = {}
  coroutine.wrap(function()
    order[#order + 1] = "a before"
    provium:barrier("ready", 2)
    order[#order + 1] = "a after"
  end)()
  order[#order + 1] = "between"
  coroutine.wrap(function()
    order[#order + 1] = "b before"
    provium:barrier("ready", 2)
    order[#order + 1] = "b after"
  end)()
  t:assert_eq(table.concat(order, ","), "a before,between,b before,a after,b after")
end)
test("main thread cannot wait", function(t) provium:barrier("x", 2) end)
test("left waiting", function(t)
  coroutine.wrap(function() provium:barrier("lonely", 2) end)()
end)
test("timeout", function(t)
  coroutine.wrap(function() provium:barrier("slow", 2, 0.01) end)()
  local deadline = os.clock() + 0.05
  while os.clock() < deadline do end
  provium:barrier("slow", 2)
end)
)lua", supervisor);
  EXPECT_EQ(outcome_named(file, "two coroutines").status, TestStatus::passed)
      << outcome_named(file, "two coroutines").message;
  EXPECT_NE(outcome_named(file, "main thread cannot wait").message.find("this caller is not a coroutine"),
            std::string::npos) << outcome_named(file, "main thread cannot wait").message;
  EXPECT_NE(outcome_named(file, "left waiting").message.find("still waiting when the test ended"), std::string::npos)
      << outcome_named(file, "left waiting").message;
  EXPECT_NE(outcome_named(file, "timeout").message.find("timed out after"), std::string::npos)
      << outcome_named(file, "timeout").message;
}

TEST(Lab, ScopeEndClosesByKindThenInCreationOrder) {
  FakeSupervisor supervisor;
  TestClock clock;
  Lab lab(supervisor, clock);
  std::vector<std::string> closed;
  const auto closer = [&](std::string name) {
    return [&closed, name]() -> std::optional<std::string> {
      closed.push_back(name);
      return std::nullopt;
    };
  };
  lab.enter_test_scope();
  lab.adopt(ResourceKind::worker, closer("worker"));
  lab.adopt(ResourceKind::process, closer("process 1"));
  lab.adopt(ResourceKind::file, closer("file"));
  lab.adopt(ResourceKind::stream, closer("stream"));
  lab.adopt(ResourceKind::process, closer("process 2"));
  EXPECT_TRUE(lab.leave_test_scope().empty());
  EXPECT_EQ(closed, (std::vector<std::string>{"stream", "process 1", "process 2", "file", "worker"}));
}

}  // namespace
}  // namespace provium::runner::testing
