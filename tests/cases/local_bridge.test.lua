-- --vmm local has no network devices: a bridge can be declared, but attaching
-- a local VM to it is refused with the reason, and the VM stays usable.
-- expect-args: --vmm local
-- expect-exit: 0
-- expect-file: passed
-- expect-test: "attaching a local VM is refused" passed
-- expect-test: "a local VM attached before it boots is refused when it boots" passed
test("attaching a local VM is refused", function(t)
    local lan = provium:bridge("lan")
    local vm = provium:vm("l", "default"):boot()
    local err = t:assert_raises(function() lan:attach(vm) end)
    t:assert_contains(tostring(err),
        "bridge:attach: bridge `lan`: attach: VM `l` runs under --vmm local, which has no network devices")
    t:assert_eq(#lan:members(), 0)
    vm:run("true"):assert_ok()
end)

test("a local VM attached before it boots is refused when it boots", function(t)
    local lan = provium:bridge("early")
    local vm = provium:vm("e", "default")
    lan:attach(vm)  -- only recorded: the VM is not booted yet
    local err = t:assert_raises(function() vm:boot() end)
    t:assert_contains(tostring(err), "vm `e`: boot: joining the bridges it was attached to: bridge `early`: " ..
        "attach: VM `e` runs under --vmm local, which has no network devices")
    vm:run("true"):assert_ok()  -- booted all the same
end)
