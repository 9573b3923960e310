// The Lua environment a test file sees: safe libraries only, documented
// globals present, text-only load, print to stdout.
#include "lua_test_helpers.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <string>

namespace provium::runner::testing {
namespace {

TEST(SafeStdlib, DangerousThingsAreAbsent) {
  EXPECT_TRUE(all_passed(run_lua_file(R"lua(
test("absent", function(t)
  for _, name in ipairs({"io", "package", "dofile", "loadfile", "loadstring", "_provium_test_hooks"}) do
    t:assert_eq(_G[name], nil, name)
  end
  t:assert_eq(string.dump, nil, "string.dump")
  t:assert_eq(debug.getinfo, nil, "debug.getinfo")
  t:assert_eq(debug.sethook, nil, "debug.sethook")
  t:assert_eq(debug.getregistry, nil, "debug.getregistry")
  for _, name in ipairs({"execute", "getenv", "remove", "rename", "exit", "tmpname", "setlocale"}) do
    t:assert_eq(os[name], nil, "os." .. name)
  end
end)
test("present", function(t)
  for _, name in ipairs({"test", "todo", "wait_until", "json", "provium", "require", "print", "pcall", "load"}) do
    t:assert_neq(_G[name], nil, name)
  end
  t:assert_eq(type(debug.traceback), "function")
  t:assert_eq(type(os.time()), "number")
  t:assert_eq(type(os.clock()), "number")
  t:assert_eq(type(os.date("%Y")), "string")
  t:assert_eq(os.difftime(2, 1), 1.0)
  t:assert_eq(utf8.char(233), "é")
  t:assert_eq(math.max(1, 2), 2)
  t:assert_eq(table.concat({"a", "b"}, ","), "a,b")
  local co = coroutine.wrap(function() coroutine.yield(1) end)
  t:assert_eq(co(), 1)
end)
test("provium.pack and unpack", function(t)
  local frame = provium:pack(">I4 I4", 7, 9)
  local a, b = provium:unpack(">I4 I4", frame)
  t:assert_eq(a + b, 16)
  t:assert_eq(provium.pack("B", 65), "A")
  t:assert_eq(provium.pack, provium.pack)
end)
)lua")));
}

TEST(SafeStdlib, LoadIsTextOnly) {
  EXPECT_TRUE(all_passed(run_lua_file(R"lua(
test("text works", function(t)
  t:assert_eq(load("return 1 + 1")(), 2)
  local env = {x = 5}
  t:assert_eq(load("return x", "chunk", "t", env)(), 5)
end)
test("binary refused", function(t)
  local fn, err = load("\27Lua\84\0fake bytecode")
  t:assert_eq(fn, nil)
  t:assert_contains(err, "binary chunk")
  local fn2, err2 = load("return 1", "c", "b")
  t:assert_eq(fn2, nil)
  t:assert_contains(err2, "binary chunks are not allowed")
end)
)lua")));
}

TEST(SafeStdlib, PrintWritesToStdout) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const int saved_stdout = dup(1);
  dup2(pipe_fds[1], 1);
  const FileOutcome file = run_lua_file(R"lua(print("hello", 42, nil, true))lua");
  dup2(saved_stdout, 1);
  close(saved_stdout);
  close(pipe_fds[1]);
  char buffer[256] = {};
  const ssize_t got = read(pipe_fds[0], buffer, sizeof buffer - 1);
  close(pipe_fds[0]);
  EXPECT_FALSE(file.has_chunk_error) << file.chunk_error;
  EXPECT_EQ(std::string(buffer, got > 0 ? static_cast<std::size_t>(got) : 0), "hello\t42\tnil\ttrue\n");
}

TEST(SafeStdlib, TestHooksOnlyWhenAsked) {
  FakeSupervisor supervisor;
  const FileOutcome file = run_lua_file(R"lua(
test("hooks", function(t)
  t:assert_eq(type(_provium_test_hooks.segfault), "function")
  t:assert_eq(type(_provium_test_hooks.forbidden_exec), "function")
end)
)lua", supervisor, {}, /*test_hooks=*/true);
  EXPECT_TRUE(all_passed(file));
}

TEST(Require, LoadsThroughTheSupervisorAndCaches) {
  FakeSupervisor supervisor;
  supervisor.modules["lib/util"] = {"@tests/lib/util.lua", "local name = ... return {twice = function(x) return 2 * x end, name = name}"};
  supervisor.modules["lib/broken"] = {"@tests/lib/broken.lua", "\nerror('broken module')"};
  supervisor.modules["lib/nothing"] = {"@tests/lib/nothing.lua", "x_loaded = true"};
  supervisor.modules["lib/loop"] = {"@tests/lib/loop.lua", "require('lib/loop')"};
  const FileOutcome file = run_lua_file(R"lua(
local util = require("lib/util")
test("loaded", function(t)
  t:assert_eq(util.twice(21), 42)
  t:assert_eq(util.name, "lib/util")
  t:assert_eq(require("lib/util"), util)
  t:assert_eq(require("lib/nothing"), true)
end)
test("missing", function(t) require("lib/missing") end)
test("broken", function(t) require("lib/broken") end)
test("circular", function(t) require("lib/loop") end)
)lua", supervisor);
  EXPECT_EQ(outcome_named(file, "loaded").status, TestStatus::passed) << outcome_named(file, "loaded").message;
  EXPECT_NE(outcome_named(file, "missing").message.find("require: module `lib/missing` not found: no module"),
            std::string::npos);
  EXPECT_EQ(outcome_named(file, "broken").message, "tests/lib/broken.lua:2: broken module");
  EXPECT_NE(outcome_named(file, "circular").message.find("circular require"), std::string::npos);
  EXPECT_EQ(supervisor.module_loads, 5);
}

}  // namespace
}  // namespace provium::runner::testing
