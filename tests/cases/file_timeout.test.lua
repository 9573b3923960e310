-- expect-args: --timeout 3s
-- expect-exit: 1
-- expect-file: timed_out
-- expect-test: "finished before the hang" passed
-- expect-test: "hangs the runner" failed "timed out"
-- expect-text: TIME {path} (1 passed, 1 failed, 0 skipped)
test("finished before the hang", function(t) end)
test("hangs the runner", function(t) _provium_test_hooks.hang() end)
