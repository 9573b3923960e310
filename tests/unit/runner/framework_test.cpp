// test(), the t context, todo(), outcomes and progress reports, driven
// through a real Lua state with a fake supervisor.
#include "lua_test_helpers.h"

#include <gtest/gtest.h>

namespace provium::runner::testing {
namespace {

TEST(Framework, ClassifiesPassFailAndError) {
  FakeSupervisor supervisor;
  const FileOutcome file = run_lua_file(R"lua(
test("passes", function(t) t:assert(true) end)
test("fails on purpose", function(t)
  t:assert_eq(1, 2, "1 must equal 2")
end)
test("raises", function(t)
  error("boom")
end)
)lua", supervisor);
  ASSERT_FALSE(file.has_chunk_error) << file.chunk_error;
  ASSERT_EQ(file.tests.size(), 3u);
  EXPECT_EQ(file.tests[0].status, TestStatus::passed);
  EXPECT_EQ(file.tests[0].message, "");
  EXPECT_EQ(file.tests[1].status, TestStatus::failed);
  // As the docs show it in the FAIL output: no position.
  EXPECT_EQ(file.tests[1].message, "1 must equal 2: 1 ~= 2");
  EXPECT_EQ(file.tests[2].status, TestStatus::failed);
  // A plain error keeps Lua's position.
  EXPECT_EQ(file.tests[2].message, "tests/t.test.lua:7: boom");
  EXPECT_EQ(supervisor.events,
            (std::vector<std::string>{"started passes", "finished passes: passed", "started fails on purpose",
                                      "finished fails on purpose: failed", "started raises",
                                      "finished raises: failed"}));
  EXPECT_EQ(supervisor.finished.size(), 3u);
}

TEST(Framework, AssertionMessagesShowBothValues) {
  const FileOutcome file = run_lua_file(R"lua(
test("eq numbers", function(t) t:assert_eq(1, 2) end)
test("eq strings", function(t) t:assert_eq("a\nb", "1", "text") end)
test("eq types", function(t) t:assert_eq(1, "1") end)
test("neq", function(t) t:assert_neq(3, 3, "must differ") end)
test("assert default", function(t) t:assert(false) end)
test("assert msg", function(t) t:assert(nil, "custom") end)
test("contains", function(t) t:assert_contains("hello world", "bye") end)
test("contains types", function(t) t:assert_contains(42, "4") end)
test("fail default", function(t) t:fail() end)
test("fail msg", function(t) t:fail("gave up") end)
test("dot call", function(t) t.assert(true) end)
)lua");
  EXPECT_EQ(outcome_named(file, "eq numbers").message, "1 ~= 2");
  EXPECT_EQ(outcome_named(file, "eq strings").message, R"(text: "a\nb" ~= "1")");
  EXPECT_EQ(outcome_named(file, "eq types").message, R"(1 ~= "1")");
  EXPECT_EQ(outcome_named(file, "neq").message, "must differ: 3 == 3");
  EXPECT_EQ(outcome_named(file, "assert default").message, "assertion failed");
  EXPECT_EQ(outcome_named(file, "assert msg").message, "custom");
  EXPECT_EQ(outcome_named(file, "contains").message, R"("hello world" does not contain "bye")");
  EXPECT_NE(outcome_named(file, "contains types").message.find("needs two strings, got number and string"),
            std::string::npos);
  EXPECT_EQ(outcome_named(file, "fail default").message, "explicit failure (t:fail)");
  EXPECT_EQ(outcome_named(file, "fail msg").message, "gave up");
  EXPECT_NE(outcome_named(file, "dot call").message.find("call it as t:assert(...) with `:`"), std::string::npos);
  for (const auto& test : file.tests) EXPECT_EQ(test.status, TestStatus::failed) << test.name;
}

TEST(Framework, StickyFailureSurvivesPcall) {
  const FileOutcome file = run_lua_file(R"lua(
test("swallowed", function(t)
  local ok = pcall(function() t:assert(false, "should fail") end)
  assert(not ok)
end)
test("caught error that is not an assertion", function(t)
  pcall(error, "ignored")
end)
)lua");
  EXPECT_EQ(outcome_named(file, "swallowed").status, TestStatus::failed);
  EXPECT_EQ(outcome_named(file, "swallowed").message, "should fail");
  EXPECT_EQ(outcome_named(file, "caught error that is not an assertion").status, TestStatus::passed);
}

TEST(Framework, AssertRaisesRestoresTheStickyFlag) {
  const FileOutcome file = run_lua_file(R"lua(
test("expected raise", function(t)
  local err = t:assert_raises(function() t:assert(false, "inner") end)
  t:assert_contains(tostring(err), "inner")
  t:assert_eq(t._failed, false)
end)
test("plain error value", function(t)
  local err = t:assert_raises(function() error({code = 7}) end)
  t:assert_eq(err.code, 7)
end)
test("no raise", function(t)
  t:assert_raises(function() end)
end)
test("no raise with msg", function(t)
  t:assert_raises(function() end, "closing twice")
end)
)lua");
  EXPECT_EQ(outcome_named(file, "expected raise").status, TestStatus::passed) << outcome_named(file, "expected raise").message;
  EXPECT_EQ(outcome_named(file, "plain error value").status, TestStatus::passed);
  EXPECT_EQ(outcome_named(file, "no raise").message, "expected to raise");
  EXPECT_EQ(outcome_named(file, "no raise with msg").message, "closing twice: expected to raise");
}

TEST(Framework, SkipInsideTheBody) {
  FakeSupervisor supervisor;
  const FileOutcome file = run_lua_file(R"lua(
test("only on btrfs", function(t)
  t:skip("not a btrfs root")
  error("not reached")
end)
test("skip swallowed", function(t)
  pcall(function() t:skip("later") end)
end)
)lua", supervisor);
  EXPECT_EQ(outcome_named(file, "only on btrfs").status, TestStatus::skipped);
  EXPECT_EQ(outcome_named(file, "only on btrfs").message, "not a btrfs root");
  EXPECT_EQ(outcome_named(file, "skip swallowed").status, TestStatus::skipped);
  // An inline skip happens after the test started.
  EXPECT_EQ(supervisor.events[0], "started only on btrfs");
}

TEST(Framework, ContextCarriesNameMetaAndLog) {
  const FileOutcome file = run_lua_file(R"lua(
test("named", {spec = "PSD §1", tags = {"a"}}, function(t)
  t:log("first")
  t:log(42)
  t:assert_eq(t.name, "named")
  t:assert_eq(t.meta.spec, "PSD §1")
end)
test("no meta", function(t)
  t:assert_eq(next(t.meta), nil)
end)
)lua");
  ASSERT_TRUE(all_passed(file));
  EXPECT_EQ(outcome_named(file, "named").log, (std::vector<std::string>{"first", "42"}));
  EXPECT_GT(outcome_named(file, "named").duration_ns, 0u);
}

TEST(Framework, DuplicateNameIsAChunkError) {
  FakeSupervisor supervisor;
  const FileOutcome file = run_lua_file(R"lua(
test("foo", function(t) end)
test("foo", function(t) end)
)lua", supervisor);
  ASSERT_TRUE(file.has_chunk_error);
  EXPECT_EQ(file.chunk_error, "tests/t.test.lua:3: test: duplicate name `foo` in this file");
  EXPECT_TRUE(file.tests.empty());
  EXPECT_TRUE(supervisor.events.empty());
}

TEST(Framework, ChunkErrorRunsNoTests) {
  FakeSupervisor supervisor;
  const FileOutcome runtime = run_lua_file(R"lua(
test("registered first", function(t) end)
local x = nil
x.field = 1
)lua", supervisor);
  ASSERT_TRUE(runtime.has_chunk_error);
  EXPECT_NE(runtime.chunk_error.find("tests/t.test.lua:4: attempt to index a nil value"), std::string::npos)
      << runtime.chunk_error;
  EXPECT_TRUE(runtime.tests.empty());
  EXPECT_TRUE(supervisor.events.empty());

  const FileOutcome syntax = run_lua_file("test('x', function(t) end\n");
  ASSERT_TRUE(syntax.has_chunk_error);
  EXPECT_NE(syntax.chunk_error.find("tests/t.test.lua:"), std::string::npos) << syntax.chunk_error;
}

TEST(Framework, RegistrationArgumentsAreChecked) {
  EXPECT_NE(run_lua_file("test(1, function() end)").chunk_error.find("test: name must be a string, got number"),
            std::string::npos);
  EXPECT_NE(run_lua_file("test('a', 'meta', function() end)").chunk_error.find("meta must be a table, got string"),
            std::string::npos);
  EXPECT_NE(run_lua_file("test('a', {})").chunk_error.find("expected the test body"), std::string::npos);
  EXPECT_NE(run_lua_file("test('a', function(t) test('b', function() end) end)")
                .tests.at(0)
                .message.find("cannot register a test from inside a test body"),
            std::string::npos);
}

TEST(Framework, TodoSkipsEveryTest) {
  FakeSupervisor supervisor;
  const FileOutcome file = run_lua_file(R"lua(
todo("waiting on the spec")
test("a", function(t) error("must not run") end)
test("b", function(t) error("must not run") end)
)lua", supervisor);
  ASSERT_EQ(file.tests.size(), 2u);
  for (const auto& test : file.tests) {
    EXPECT_EQ(test.status, TestStatus::skipped);
    EXPECT_EQ(test.message, "waiting on the spec");
  }
  // Declaratively skipped tests never start.
  EXPECT_EQ(supervisor.events, (std::vector<std::string>{"finished a: skipped", "finished b: skipped"}));
  EXPECT_EQ(run_lua_file("todo()\ntest('a', function() end)").tests.at(0).message, "todo");
}

TEST(Framework, MemoryCapTurnsIntoAnError) {
  const FileOutcome file = run_lua_file(R"lua(
test("hog", function(t)
  local parts = {}
  for i = 1, 1e9 do parts[i] = string.rep("x", 1024) .. i end
end)
test("after", function(t) t:assert(true) end)
)lua");
  EXPECT_EQ(outcome_named(file, "hog").status, TestStatus::failed);
  EXPECT_NE(outcome_named(file, "hog").message.find("not enough memory"), std::string::npos);
  EXPECT_EQ(outcome_named(file, "after").status, TestStatus::passed);
}

}  // namespace
}  // namespace provium::runner::testing
