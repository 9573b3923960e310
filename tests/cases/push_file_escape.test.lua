-- push_file cannot read outside the roots, whatever the path looks like.
-- expect-args: --vmm local
-- expect-exit: 1
-- expect-file: failed
-- expect-test: "push_file of /etc/shadow" failed "outside the roots push_file may read"
-- expect-test: "push_file climbing out with .." failed "outside the roots push_file may read"
local vm = provium:vm("e", "default"):boot()

test("push_file of /etc/shadow", function(t)
    vm:push_file("/etc/shadow", "/tmp/shadow")
end)

test("push_file climbing out with ..", function(t)
    vm:push_file("../../../../../../../../etc/passwd", "/tmp/passwd")
end)
