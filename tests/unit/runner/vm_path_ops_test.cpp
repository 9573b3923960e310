// VM path ops from Lua: stat, listdir, mkdir, unlink, rename against the
// fake agent, with their result shapes and error texts.
#include "lua_test_helpers.h"

#include <gtest/gtest.h>

namespace provium::runner::testing {
namespace {

TEST(VmPathOps, ShapesAndRoundTrips) {
  FakeSupervisor supervisor;
  const FileOutcome file = run_lua_file(R"lua(
local vm = provium:vm("a", "peios"):boot()
test("round trip", function(t)
  vm:mkdir("/d/sub", {parents = true, perm = 448})
  vm:write_file("/d/f", "12345")
  local st = vm:stat("/d/f")
  t:assert_eq(st.size, 5)
  t:assert_eq(st.mtime_ns, 1700000000123456789)
  t:assert(math.abs(st.mtime - 1700000000.123456789) < 1e-6)
  t:assert_eq(math.type(st.mtime), "float")
  t:assert_eq(st.perm, 420)
  t:assert_eq(st.entry_type, "file")
  t:assert_eq(vm:stat("/d/sub").entry_type, "directory")
  t:assert_eq(vm:stat("/d/sub").perm, 448)
  local entries = vm:listdir("/d")
  t:assert_eq(#entries, 2)
  t:assert_eq(entries[1].name, "f")
  t:assert_eq(entries[1].entry_type, "file")
  t:assert_eq(entries[2].name, "sub")
  t:assert_eq(entries[2].entry_type, "directory")
  vm:rename("/d/f", "/d/g")
  t:assert_eq(vm:read_file("/d/g"), "12345")
  vm:unlink("/d/g")
  vm:mkdir("/plain")
  t:assert_eq(vm:stat("/plain").perm, 493)
end)
test("missing", function(t) vm:stat("/nope") end)
test("unlink missing", function(t) vm:unlink("/nope") end)
test("bad perm", function(t) vm:mkdir("/x", {perm = 4096}) end)
test("unknown mkdir option", function(t) vm:mkdir("/x", {parent = true}) end)
test("parents not bool", function(t) vm:mkdir("/x", {parents = 1}) end)
test("rename missing", function(t) vm:rename("/nope", "/else") end)
)lua", supervisor);
  EXPECT_EQ(outcome_named(file, "round trip").status, TestStatus::passed) << outcome_named(file, "round trip").message;
  EXPECT_NE(outcome_named(file, "missing").message.find("vm `a`: stat `/nope`: /nope: No such file or directory"),
            std::string::npos) << outcome_named(file, "missing").message;
  EXPECT_NE(outcome_named(file, "unlink missing").message.find("vm `a`: unlink `/nope`: "), std::string::npos);
  EXPECT_NE(outcome_named(file, "bad perm").message.find("vm `a`: mkdir: perm must be POSIX mode bits"),
            std::string::npos) << outcome_named(file, "bad perm").message;
  EXPECT_NE(outcome_named(file, "unknown mkdir option").message.find("unknown option `parent` (known: parents, perm)"),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "parents not bool").message.find("parents must be a boolean, got number"),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "rename missing").message.find("vm `a`: rename `/nope` to `/else`: "),
            std::string::npos);
}

TEST(VmPathOps, NeedABootedVm) {
  const FileOutcome file = run_lua_file(R"lua(
local vm = provium:vm("a", "peios")
test("unbooted", function(t) vm:stat("/") end)
)lua");
  EXPECT_NE(outcome_named(file, "unbooted").message.find("vm `a`: stat `/`: VM is `created`, boot it first"),
            std::string::npos) << outcome_named(file, "unbooted").message;
}

}  // namespace
}  // namespace provium::runner::testing
