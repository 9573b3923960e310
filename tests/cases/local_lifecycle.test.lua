-- --vmm local has no virtual machine: the lifecycle verbs a kernel would serve
-- are refused with a reason, the VM stays usable, and the "console" is the
-- agent's own output (read-only).
-- expect-args: --vmm local
-- expect-exit: 0
-- expect-file: passed
-- expect-test: "pause, resume, reset and power_button are refused" passed
-- expect-test: "the console is the agent's output, without input" passed
local vm = provium:vm("l", "default"):boot()

test("pause, resume, reset and power_button are refused", function(t)
    for _, verb in ipairs({"pause", "reset", "power_button"}) do
        local err = t:assert_raises(function() vm[verb](vm) end)
        t:assert_contains(tostring(err), "vm `l`: " .. verb .. ": not supported under --vmm local")
        t:assert_eq(vm:state(), "booted")
    end
    local err = t:assert_raises(function() vm:resume() end)
    t:assert_contains(tostring(err), "VM is `booted`, it must be `paused`")
    vm:run("true"):assert_ok()
end)

test("the console is the agent's output, without input", function(t)
    local stream = vm:console():read()
    t:assert_eq(stream:next("100ms") ~= false, true)
    local err = t:assert_raises(function() vm:console():write("x\n") end)
    t:assert_contains(tostring(err), "vm `l`: console:write: console: this VM has no console input")
    stream:close()
    vm:run("true"):assert_ok()
end)
