-- The runner's seccomp filter kills it on a forbidden system call.
-- expect-exit: 1
-- expect-file: crashed
-- expect-test: "forbidden open" failed "killed by the sandbox (SIGSYS)"
-- expect-crash: "SIGSYS"
test("forbidden open", function(t)
    _provium_test_hooks.forbidden_open("/etc/passwd")
    t:fail("the runner survived a forbidden open")
end)
