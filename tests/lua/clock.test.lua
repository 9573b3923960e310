-- The guest clock: get/get_ns, set/set_ns, advance, and a host-side sleep.
local vm = provium:vm("clock", "default"):boot()

-- Under --vmm local the agent is a sandboxed host process that may not set
-- the host's clock; the set/advance tests then have nothing to test.
local function settable(t)
    local ok, err = pcall(function() vm:clock():set_ns(vm:clock():get_ns()) end)
    if not ok and tostring(err):find("Operation not permitted", 1, true) then
        t:skip("the agent may not set the clock here (--vmm local)")
    elseif not ok then
        error(err, 0)
    end
end

test("set and get agree, in seconds and nanoseconds", function(t)
    settable(t)
    local clock = vm:clock()
    clock:set(1700000000)
    local now = clock:get()
    t:assert_eq(math.type(now), "float")
    t:assert(now >= 1700000000 and now < 1700000060)
    clock:set_ns(1800000000123456789)
    local ns = clock:get_ns()
    t:assert_eq(math.type(ns), "integer")
    t:assert(ns >= 1800000000123456789 and ns < 1800000060000000000)
    local date = vm:run("date +%s"):assert_ok().stdout
    t:assert(tonumber(date) >= 1800000000)
end)

test("advance moves forwards and backwards", function(t)
    settable(t)
    local clock = vm:clock()
    clock:set(1700000000)
    clock:advance(3600)
    t:assert(clock:get() >= 1700003600 and clock:get() < 1700003660)
    clock:advance(-7200)
    t:assert(clock:get() >= 1699996400 and clock:get() < 1699996460)
end)

test("non-finite values are refused", function(t)
    local err = t:assert_raises(function() vm:clock():set(0/0) end)
    t:assert_contains(tostring(err), "clock:set: value must be a finite number (got NaN/inf)")
    err = t:assert_raises(function() vm:clock():advance(math.huge) end)
    t:assert_contains(tostring(err), "finite")
    err = t:assert_raises(function() vm:clock():sleep(-1) end)
    t:assert_contains(tostring(err), "negative")
end)

test("sleep waits on the host", function(t)
    vm:clock():sleep("200ms")
    vm:clock():sleep(0.05)
end)
