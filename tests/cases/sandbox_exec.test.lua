-- The runner's seccomp filter kills it on a forbidden system call.
-- expect-exit: 1
-- expect-file: crashed
-- expect-test: "forbidden exec" failed "killed by the sandbox (SIGSYS)"
-- expect-crash: "SIGSYS"
test("forbidden exec", function(t)
    _provium_test_hooks.forbidden_exec()
    t:fail("the runner survived a forbidden exec")
end)
