// Per-test deadlines (meta.timeout, provium.timeout) and wait_until.
#include "lua_test_helpers.h"

#include <gtest/gtest.h>

#include <chrono>

namespace provium::runner::testing {
namespace {

TEST(Timeouts, MetaTimeoutInterruptsALoop) {
  const auto started = std::chrono::steady_clock::now();
  const FileOutcome file = run_lua_file(R"lua(
test("spins", {timeout = 0.2}, function(t) while true do end end)
test("swallows", {timeout = "150ms"}, function(t)
  while true do pcall(function() while true do end end) end
end)
test("next one runs", function(t) t:assert(true) end)
)lua");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
  EXPECT_EQ(outcome_named(file, "spins").status, TestStatus::failed);
  EXPECT_EQ(outcome_named(file, "spins").message, "test timed out after 200ms");
  EXPECT_EQ(outcome_named(file, "swallows").status, TestStatus::failed);
  EXPECT_EQ(outcome_named(file, "swallows").message, "test timed out after 150ms");
  EXPECT_EQ(outcome_named(file, "next one runs").status, TestStatus::passed);
}

TEST(Timeouts, FileDefaultAndPerTestWins) {
  const FileOutcome file = run_lua_file(R"lua(
provium.timeout = "100ms"
assert(provium.timeout == "100ms")
test("default applies", function(t) while true do end end)
test("per-test wins", {timeout = 5}, function(t)
  local started = os.clock()
  while os.clock() - started < 0.3 do end
end)
test("zero means no limit", {timeout = 0}, function(t)
  local started = os.clock()
  while os.clock() - started < 0.2 do end
end)
)lua");
  EXPECT_EQ(outcome_named(file, "default applies").message, "test timed out after 100ms");
  EXPECT_EQ(outcome_named(file, "per-test wins").status, TestStatus::passed);
  EXPECT_EQ(outcome_named(file, "zero means no limit").status, TestStatus::passed);
}

TEST(Timeouts, BadTimeoutsNameTheInput) {
  const FileOutcome meta = run_lua_file(R"lua(test("x", {timeout = "soon"}, function(t) end))lua");
  ASSERT_TRUE(meta.has_chunk_error);
  EXPECT_NE(meta.chunk_error.find("test: `x`: bad meta.timeout: bad duration string `soon`"), std::string::npos)
      << meta.chunk_error;
  const FileOutcome file = run_lua_file(R"lua(provium.timeout = -1)lua");
  ASSERT_TRUE(file.has_chunk_error);
  EXPECT_NE(file.chunk_error.find("bad provium.timeout: bad duration: -1 is negative"), std::string::npos)
      << file.chunk_error;
}

TEST(WaitUntil, ReturnsThePredicatesValue) {
  EXPECT_TRUE(all_passed(run_lua_file(R"lua(
test("counts up", function(t)
  local calls = 0
  local value = wait_until(function()
    calls = calls + 1
    if calls == 3 then return "ready" end
  end, {timeout = "60s", interval = 0.01})
  t:assert_eq(value, "ready")
  t:assert_eq(calls, 3)
end)
)lua")));
}

TEST(WaitUntil, TimesOutWithTheDocumentedMessage) {
  const FileOutcome file = run_lua_file(R"lua(
test("never", function(t)
  wait_until(function() return false end, {timeout = "200ms", interval = 0.05, desc = "nginx running"})
end)
test("default desc", function(t)
  wait_until(function() return nil end, {timeout = 0.1})
end)
test("bad timeout", function(t)
  wait_until(function() return true end, {timeout = "abc"})
end)
test("predicate raises", function(t)
  wait_until(function() error("probe broke") end)
end)
)lua");
  EXPECT_EQ(outcome_named(file, "never").message, "tests/t.test.lua:3: wait_until: nginx running not met within 0.2s");
  EXPECT_EQ(outcome_named(file, "default desc").message, "tests/t.test.lua:6: wait_until: condition not met within 0.1s");
  EXPECT_NE(outcome_named(file, "bad timeout").message.find("wait_until: bad timeout: bad duration string `abc`"),
            std::string::npos);
  EXPECT_EQ(outcome_named(file, "predicate raises").message, "tests/t.test.lua:12: probe broke");
}

TEST(WaitUntil, StopsAtTheTestDeadline) {
  const FileOutcome file = run_lua_file(R"lua(
test("deadline first", {timeout = "200ms"}, function(t)
  wait_until(function() return false end, {timeout = 30, interval = 1})
end)
)lua");
  EXPECT_EQ(outcome_named(file, "deadline first").message, "test timed out after 200ms");
}

}  // namespace
}  // namespace provium::runner::testing
