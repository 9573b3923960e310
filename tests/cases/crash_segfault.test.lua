-- expect-exit: 1
-- expect-file: crashed
-- expect-test: "before the crash" passed
-- expect-test: "crashes the runner" failed "killed by SIGSEGV"
-- expect-crash: "SIGSEGV"
test("before the crash", function(t)
    provium:vm("v", "default"):boot():run("true"):assert_ok()
end)
local vm = provium:vm("held", "default"):boot()
test("crashes the runner", function(t)
    vm:run("true"):assert_ok()
    _provium_test_hooks.segfault()
end)
