-- pause, resume, reset and power_button on real guests, and the state
-- machine around them. Tagged needs-kernel: --vmm local refuses these verbs
-- (tests/cases/local_lifecycle.test.lua checks how).

test("pause and resume move between booted and paused", {tags = {"needs-kernel"}}, function(t)
    local vm = provium:vm("p", "default"):boot()
    vm:write_file("/tmp/kept", "across a pause")
    vm:pause()
    t:assert_eq(vm:state(), "paused")
    local err = t:assert_raises(function() vm:run("true") end)
    t:assert_contains(tostring(err), "vm `p`: run: VM is `paused`, resume it first")
    err = t:assert_raises(function() vm:pause() end)
    t:assert_contains(tostring(err), "vm `p`: pause: VM is `paused`, it must be `booted`")
    err = t:assert_raises(function() vm:reset() end)
    t:assert_contains(tostring(err), "paused")
    vm:resume()
    t:assert_eq(vm:state(), "booted")
    err = t:assert_raises(function() vm:resume() end)
    t:assert_contains(tostring(err), "vm `p`: resume: VM is `booted`, it must be `paused`")
    t:assert_eq(vm:read_file("/tmp/kept"), "across a pause")
end)

test("a paused guest runs nothing until resumed", {tags = {"needs-kernel"}}, function(t)
    local vm = provium:vm("frozen", "default"):boot()
    -- A guest loop prints a counter on the console; while paused the count
    -- must not move past what was printed before the pause settled.
    vm:run("(i=0; while true; do i=$((i+1)); echo tick-$i > /dev/ttyS0; sleep 0.05; done) >/dev/null 2>&1 &")
        :assert_ok()
    vm:console():expect("tick-3", "60s")
    vm:pause()
    local function last_tick()
        local last
        for n in vm:console():read_log():gmatch("tick%-(%d+)") do last = tonumber(n) end
        return last
    end
    -- Let whatever was already on its way arrive, then check it stays put.
    local settled = last_tick()
    wait_until(function()
        local now = last_tick()
        local same = now == settled
        settled = now
        return same
    end, {timeout = 60, interval = 0.5, desc = "the console to settle"})
    vm:clock():sleep("1s")
    t:assert_eq(last_tick(), settled, "the guest printed while paused")
    vm:resume()
    vm:console():expect("tick-" .. (settled + 2), "60s")
end)

test("reset reboots the guest and reconnects the agent", {tags = {"needs-kernel"}}, function(t)
    local vm = provium:vm("r", "default"):boot()
    vm:write_file("/tmp/before-reset", "gone after reset")
    local boot_id = vm:read_file("/proc/sys/kernel/random/boot_id")
    local f = vm:open_file("/tmp/before-reset", {read = true})
    local tail = vm:tail_file("/tmp/before-reset")
    vm:reset()
    t:assert_eq(vm:state(), "booted")
    t:assert_neq(vm:read_file("/proc/sys/kernel/random/boot_id"), boot_id, "the guest did not reboot")
    local err = t:assert_raises(function() vm:read_file("/tmp/before-reset") end)
    t:assert_contains(tostring(err), "No such file")
    -- Handles and streams of the old agent are gone, not aimed at the new one.
    t:assert_eq(f:fd(), 0, "a file handle survived the reset")
    err = t:assert_raises(function() f:read(1) end)
    t:assert_contains(tostring(err), "file is closed")
    t:assert_eq(tail:next("100ms"), nil)
    t:assert(tail:eof())
    t:assert_eq(vm:open_file_count(), 0)
    vm:run("echo after-reset"):assert_ok()
    vm:reset()
    t:assert_eq(vm:run("echo twice"):assert_ok().stdout, "twice\n")
end)

test("power_button powers the guest off for real", {tags = {"needs-kernel"}}, function(t)
    local vm = provium:vm("pb", "default"):boot()
    local stream = vm:console():read()
    vm:power_button()
    t:assert_eq(vm:state(), "shutdown")
    local err = t:assert_raises(function() vm:run("true") end)
    t:assert_contains(tostring(err), "shutdown")
    -- The console ends because QEMU exited.
    wait_until(function() return stream:next("1s") == nil and stream:eof() end,
               {timeout = 60, desc = "console EOF after power-off"})
    err = t:assert_raises(function() vm:power_button() end)
    t:assert_contains(tostring(err), "vm `pb`: power_button: VM is `shutdown`, it must be `booted`")
    vm:shutdown()  -- still fine
end)

test("verbs on a created VM name the state", function(t)
    local vm = provium:vm("c", "default")
    for _, verb in ipairs({"pause", "resume", "reset", "power_button"}) do
        local err = t:assert_raises(function() vm[verb](vm) end)
        t:assert_contains(tostring(err), "vm `c`: " .. verb .. ": VM is `created`")
    end
    local err = t:assert_raises(function() vm.pause(nil) end)
    t:assert_contains(tostring(err), "vm:pause: expected a VM as self")
end)

test("a paused VM shuts down", {tags = {"needs-kernel"}}, function(t)
    local vm = provium:vm("ps", "default"):boot()
    vm:pause()
    vm:shutdown()
    t:assert_eq(vm:state(), "shutdown")
end)
