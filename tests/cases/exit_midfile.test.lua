-- expect-exit: 1
-- expect-file: crashed
-- expect-test: "exits the runner" failed "exit code 7"
-- expect-crash: "exit code 7"
test("exits the runner", function(t) _provium_test_hooks.exit(7) end)
