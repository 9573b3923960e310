// File userdata from Lua (vm:open_file) against the fake agent: the mode
// table, read/write/seek/tell/close/fd, and what a closed file says.
#include "lua_test_helpers.h"

#include <gtest/gtest.h>

namespace provium::runner::testing {
namespace {

TEST(FileHandle, RoundTripAndCount) {
  FakeSupervisor supervisor;
  const FileOutcome file = run_lua_file(R"lua(
local vm = provium:vm("a", "peios"):boot()
test("round trip", function(t)
  local h = vm:open_file("/tmp/data", {write = true, create = true, truncate = true, perm = 384})
  t:assert_eq(vm:open_file_count(), 1)
  t:assert_eq(h:write("hello world"), 11)
  t:assert(h:fd() > 0)
  h:close()
  h:close()  -- idempotent
  t:assert_eq(h:fd(), 0)
  t:assert_eq(vm:open_file_count(), 0)
  local r = vm:open_file("/tmp/data", {read = true})
  t:assert_eq(r:seek(6, "set"), 6)
  t:assert_eq(r:read(5), "world")
  t:assert_eq(r:tell(), 11)
  t:assert_eq(r:read(5), "")
  t:assert_eq(r:seek(-5, "end"), 6)
  t:assert_eq(r:seek(-1, "cur"), 5)
  r:seek(0)
  t:assert_eq(r:read_all(), "hello world")
  t:assert_eq(r:read_all(), "")
  r:close()
end)
test("closed", function(t)
  local h = vm:open_file("/tmp/data", {read = true})
  h:close()
  h:read(1)
end)
test("empty mode", function(t) vm:open_file("/tmp/data", {}) end)
test("create only", function(t) vm:open_file("/tmp/data", {create = true}) end)
test("bad key", function(t) vm:open_file("/tmp/data", {reed = true}) end)
test("bad whence", function(t) vm:open_file("/tmp/data", {read = true}):seek(0, "middle") end)
test("missing", function(t) vm:open_file("/nope", {read = true}) end)
)lua", supervisor);
  EXPECT_EQ(outcome_named(file, "round trip").status, TestStatus::passed) << outcome_named(file, "round trip").message;
  EXPECT_NE(outcome_named(file, "closed").message.find("vm `a`: file `/tmp/data`: read: file is closed"),
            std::string::npos) << outcome_named(file, "closed").message;
  EXPECT_NE(outcome_named(file, "empty mode").message.find("vm `a`: open_file `/tmp/data`: an empty mode opens nothing"),
            std::string::npos) << outcome_named(file, "empty mode").message;
  EXPECT_NE(outcome_named(file, "empty mode").message.find("docs/writing-tests.md"), std::string::npos);
  EXPECT_NE(outcome_named(file, "create only").message.find("at least one of read, write or append"),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "bad key").message.find("unknown mode key `reed`"), std::string::npos);
  EXPECT_NE(outcome_named(file, "bad whence").message.find("seek: whence must be set/cur/end, got `middle`"),
            std::string::npos) << outcome_named(file, "bad whence").message;
  EXPECT_NE(outcome_named(file, "missing").message.find("vm `a`: open_file `/nope`: /nope: No such file"),
            std::string::npos) << outcome_named(file, "missing").message;
}

TEST(FileHandle, CollectedHandlesAreClosedInTheAgent) {
  FakeSupervisor supervisor;
  const FileOutcome file = run_lua_file(R"lua(
local vm = provium:vm("a", "peios"):boot()
test("leak", function(t)
  vm:write_file("/f", "x")
  do local h = vm:open_file("/f", {read = true}) end
  collectgarbage()
  collectgarbage()
  t:assert_eq(vm:open_file_count(), 0)
end)
)lua", supervisor);
  EXPECT_EQ(outcome_named(file, "leak").status, TestStatus::passed) << outcome_named(file, "leak").message;
  ASSERT_TRUE(supervisor.vm("a") && supervisor.vm("a")->agent);
  EXPECT_EQ(supervisor.vm("a")->agent->open_handles(), 0u);
}

}  // namespace
}  // namespace provium::runner::testing
