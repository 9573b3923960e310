// Clock userdata (vm:clock()) against the fake agent.
#include "lua_test_helpers.h"

#include <gtest/gtest.h>

#include <chrono>

namespace provium::runner::testing {
namespace {

TEST(ClockBinding, GetSetAdvanceSleep) {
  const auto started = std::chrono::steady_clock::now();
  const FileOutcome file = run_lua_file(R"lua(
local vm = provium:vm("a", "peios"):boot()
test("clock", function(t)
  local c = vm:clock()
  t:assert_eq(c:get_ns(), 1700000000000000000)
  t:assert_eq(c:get(), 1700000000.0)
  c:set(1.5)
  t:assert_eq(c:get_ns(), 1500000000)
  c:set(-10)
  t:assert_eq(c:get_ns(), -10000000000)
  c:set_ns(42)
  c:advance(-1)
  t:assert_eq(c:get_ns(), 42 - 1000000000)
  c:advance(0.25)
  t:assert_eq(c:get_ns(), 42 - 750000000)
  c:sleep("100ms")
end)
test("nan", function(t) vm:clock():set(0/0) end)
test("inf advance", function(t) vm:clock():advance(-math.huge) end)
test("negative sleep", function(t) vm:clock():sleep(-1) end)
test("string set", function(t) vm:clock():set("now") end)
)lua");
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(100));
  EXPECT_EQ(outcome_named(file, "clock").status, TestStatus::passed) << outcome_named(file, "clock").message;
  EXPECT_NE(outcome_named(file, "nan").message.find("clock:set: value must be a finite number (got NaN/inf)"),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "inf advance").message.find("clock:advance: value must be a finite number"),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "negative sleep").message.find("negative"), std::string::npos)
      << outcome_named(file, "negative sleep").message;
  EXPECT_NE(outcome_named(file, "string set").message.find("clock:set: value must be a number, got string"),
            std::string::npos);
}

TEST(ClockBinding, SleepPastTheTestDeadlineTimesTheTestOut) {
  const auto started = std::chrono::steady_clock::now();
  const FileOutcome file = run_lua_file(R"lua(
local vm = provium:vm("a", "peios"):boot()
test("sleepy", {timeout = "200ms"}, function(t) vm:clock():sleep(30) end)
)lua");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
  EXPECT_EQ(outcome_named(file, "sleepy").status, TestStatus::failed);
  EXPECT_EQ(outcome_named(file, "sleepy").message, "test timed out after 200ms");
}

}  // namespace
}  // namespace provium::runner::testing
