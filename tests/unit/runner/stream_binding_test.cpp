// Stream userdata from Lua (vm:tail_file, vm:fd_stream) against the fake
// agent: start offsets, pending bytes, timeouts and closed streams.
#include "lua_test_helpers.h"

#include <gtest/gtest.h>

namespace provium::runner::testing {
namespace {

TEST(StreamBinding, TailsAndTheirErrors) {
  FakeSupervisor supervisor;
  const FileOutcome file = run_lua_file(R"lua(
local vm = provium:vm("a", "peios"):boot()
vm:write_file("/log", "one\ntwo\nthree\n")
test("read", function(t)
  local s = vm:tail_file("/log", {start = "beginning"})
  t:assert_eq(vm:open_stream_count(), 1)
  t:assert_eq(vm:is_quiescent(), false)
  t:assert_eq(s:read_until("two\n"), "one\ntwo\n")
  t:assert_eq(s:eof(), false)
  t:assert_eq(s:next(), "three\n")
  t:assert_eq(s:next(0.05), nil)
  s:close()
  s:close()
  t:assert_eq(s:next(), nil)
  t:assert_eq(vm:open_stream_count(), 0)
  t:assert(vm:is_quiescent())
end)
test("offsets", function(t)
  local back = vm:tail_file("/log", {start = -6})
  t:assert_eq(back:read_until("\n"), "three\n")
  back:close()
  local abs = vm:tail_file("/log", {start = 4.9})
  t:assert_eq(abs:read_until("\n"), "two\n")
  local frames = abs:drain(0.05)
  t:assert_eq(table.concat(frames), "three\n")
  abs:close()
  local at_end = vm:tail_file("/log")
  t:assert_eq(at_end:next(0.05), nil)
  at_end:close()
end)
test("timeout", function(t)
  local s = vm:tail_file("/log")
  s:read_until("never", "50ms")
end)
test("closed", function(t)
  local s = vm:tail_file("/log")
  s:close()
  s:expect("x")
end)
test("bad start", function(t) vm:tail_file("/log", {start = "middle"}) end)
test("unknown option", function(t) vm:tail_file("/log", {from = 1}) end)
)lua", supervisor);
  EXPECT_EQ(outcome_named(file, "read").status, TestStatus::passed) << outcome_named(file, "read").message;
  EXPECT_EQ(outcome_named(file, "offsets").status, TestStatus::passed) << outcome_named(file, "offsets").message;
  EXPECT_NE(outcome_named(file, "timeout").message.find(
                "vm `a`: tail_file `/log`: read_until timed out waiting for `never`"),
            std::string::npos) << outcome_named(file, "timeout").message;
  EXPECT_NE(outcome_named(file, "closed").message.find("stream closed"), std::string::npos);
  EXPECT_NE(outcome_named(file, "bad start").message.find("start must be \"end\", \"beginning\" or an offset"),
            std::string::npos) << outcome_named(file, "bad start").message;
  EXPECT_NE(outcome_named(file, "unknown option").message.find("unknown option `from` (known: start)"),
            std::string::npos);
}

}  // namespace
}  // namespace provium::runner::testing
