-- A guest that dies mid-test fails that test with a clear error; the file goes on.
-- expect-exit: 1
-- expect-file: failed
-- expect-test: "guest powers itself off" failed "vm `v`"
-- expect-test: "a later test gets a fresh guest" passed
test("guest powers itself off", function(t)
    local vm = provium:vm("v", "default"):boot()
    vm:run("echo o > /proc/sysrq-trigger")
    vm:run("true")
end)
test("a later test gets a fresh guest", function(t)
    provium:vm("v", "default"):boot():run("true"):assert_ok()
end)
