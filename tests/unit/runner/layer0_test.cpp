// vm:syscall / vm:ioctl argument forms and result shapes against the fake
// agent (whose syscall returns nr + sum(args) and upper-cases bufs).
#include "lua_test_helpers.h"

#include <gtest/gtest.h>

namespace provium::runner::testing {
namespace {

TEST(Layer0, FormsAndShapes) {
  const FileOutcome file = run_lua_file(R"lua(
local vm = provium:vm("a", "peios"):boot()
test("forms", function(t)
  local r = vm:syscall(39)
  t:assert_eq(r.ret, 39)
  t:assert_eq(r.result, 39)
  t:assert_eq(r.errno, 0)
  t:assert_eq(#r.out_bufs, 0)
  t:assert_eq(vm:syscall(1, 2, 3, 4, 5, 6, 7).ret, 28)
  local tr = vm:syscall(0, {args = {10, 0, 5}, bufs = {"abc", "de"}, ptrs = {1, 3}})
  t:assert_eq(tr.ret, 15)
  t:assert_eq(tr.out_bufs[1], "ABC@1")
  t:assert_eq(tr.out_bufs[2], "DE@3")
  t:assert_eq(vm:syscall(-100).errno, 22)
  local io = vm:ioctl(3, 0x10, "xyz", {bufs = {"b"}, ptr_offsets = {8}})
  t:assert_eq(io.ret, 19)
  t:assert_eq(io.out_data, "zyx")
  t:assert_eq(io.out_bufs[1], "b8")
  t:assert_eq(vm:ioctl(3, 0x10, 7).ret, 26)
  local f = vm:open_file("/f", {write = true, create = true})
  t:assert_eq(vm:ioctl(f, 0).ret, f:fd())
end)
test("seven args", function(t) vm:syscall(1, 1, 2, 3, 4, 5, 6, 7) end)
test("bad slot", function(t) vm:syscall(1, {bufs = {"x"}, ptrs = {6}}) end)
test("more ptrs", function(t) vm:syscall(1, {bufs = {}, ptrs = {0}}) end)
test("unknown", function(t) vm:syscall(1, {arg = {}}) end)
test("bufs without data", function(t) vm:ioctl(3, 1, nil, {bufs = {"x"}, ptr_offsets = {0}}) end)
test("offsets mismatch", function(t) vm:ioctl(3, 1, "d", {bufs = {"x"}}) end)
)lua");
  EXPECT_EQ(outcome_named(file, "forms").status, TestStatus::passed) << outcome_named(file, "forms").message;
  EXPECT_NE(outcome_named(file, "seven args").message.find("vm `a`: syscall: at most 6 arguments, got 7"),
            std::string::npos) << outcome_named(file, "seven args").message;
  EXPECT_NE(outcome_named(file, "bad slot").message.find("slot 6 is not an argument slot (0-indexed, 0..5)"),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "more ptrs").message.find("1 ptrs for 0 bufs"), std::string::npos);
  EXPECT_NE(outcome_named(file, "unknown").message.find("unknown option `arg` (known: args, bufs, ptrs)"),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "bufs without data").message.find("bufs need `data`"), std::string::npos);
  EXPECT_NE(outcome_named(file, "offsets mismatch").message.find("0 ptr_offsets for 1 bufs"), std::string::npos);
}

}  // namespace
}  // namespace provium::runner::testing
