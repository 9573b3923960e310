// The provium global: declaring and looking up VMs, scopes, file settings.
#include "lua_test_helpers.h"

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
                .message.find("provium:vm: `shared`: name already declared at parent scope (lab `provium`). Pick a "
                              "different name, or use provium:vm(\"shared\") to reuse it."),
            std::string::npos)
      << outcome_named(file, "shadowing is refused").message;
  EXPECT_NE(outcome_named(file, "duplicate in one scope").message.find("a VM named `twice` already exists"),
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
test("reset true is refused", function(t) provium.reset_between_tests = true end)
test("unknown assignment", function(t) provium.foo = 1 end)
test("refused profile", function(t) provium:vm("a", "nope") end)
test("dot instead of colon", function(t) provium.vm("a", "peios") end)
test("reserved name", function(t) provium:vm("pack", "peios") end)
test("not yet", function(t) provium:barrier("b") end)
test("bad option", function(t) provium:vm("a", "peios", {memroy = 1}) end)
test("bad memory", function(t) provium:vm("a", "peios", {memory = "lots"}) end)
)lua", supervisor);
  EXPECT_EQ(outcome_named(file, "settings read back").status, TestStatus::passed)
      << outcome_named(file, "settings read back").message;
  EXPECT_NE(outcome_named(file, "reset true is refused").message.find("provium.reset_between_tests is not supported yet"),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "unknown assignment").message.find("provium.foo cannot be assigned"), std::string::npos);
  EXPECT_NE(outcome_named(file, "refused profile")
                .message.find("provium:vm: cannot create `a` (profile `nope`): unknown profile `nope`"),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "dot instead of colon").message.find("with `:`"), std::string::npos);
  EXPECT_NE(outcome_named(file, "reserved name").message.find("`pack` is a reserved name"), std::string::npos);
  EXPECT_NE(outcome_named(file, "not yet").message.find("provium:barrier is not supported yet"), std::string::npos);
  EXPECT_NE(outcome_named(file, "bad option").message.find("unknown option `memroy`"), std::string::npos);
  EXPECT_NE(outcome_named(file, "bad memory").message.find("bad size `lots`"), std::string::npos);
}

}  // namespace
}  // namespace provium::runner::testing
