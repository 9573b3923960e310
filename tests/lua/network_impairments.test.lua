-- Loss and latency on the user datapath, measured by the guests themselves
-- with generous tolerances (docs/networking.md). A separate file from
-- networking.test.lua so the two can run side by side.

local function ping_stats(vm, target, args)
    local out = vm:run("ping " .. args .. " " .. target).stdout
    local sent, received = out:match("(%d+) packets transmitted, (%d+) packets received")
    local min = out:match("round%-trip min/avg/max = ([%d.]+)/")
    return tonumber(sent), tonumber(received), tonumber(min), out
end

test("added latency shows in the round trip", {tags = {"needs-kernel"}}, function(t)
    local lan = provium:bridge("slow")
    local a = provium:vm("a", "default"):boot()
    local b = provium:vm("b", "default"):boot()
    lan:attach({a, b})
    local _, _, base = ping_stats(a, "b.slow", "-c 5 -W 2")
    t:assert(base ~= nil, "a baseline round trip")
    lan:add_latency(50)  -- each way
    t:assert_eq(lan:latency_ms(), 50)
    local _, received, min, out = ping_stats(a, "b.slow", "-c 5 -W 2")
    t:assert(received and received > 0 and min, "pings with latency:\n" .. out)
    -- The minimum is the least noisy: 100 ms more, within 10 % + 2 ms.
    local added = min - base
    t:assert(math.abs(added - 100) <= 12, string.format("added %.1f ms, expected 100", added))
    lan:reset()
    t:assert_eq(lan:latency_ms(), 0)
end)

test("a directional drop rate loses about that share", {tags = {"needs-kernel"}}, function(t)
    local lan = provium:bridge("lossy")
    local a = provium:vm("la", "default"):boot()
    local b = provium:vm("lb", "default"):boot()
    lan:attach({a, b})
    a:run("ping -c 1 -W 2 lb.lossy"):assert_ok()
    -- Only the requests are dropped, so the reported loss is the rate itself.
    lan:drop_rate({from = a, to = b, p = 30})
    local sent, received, _, out = ping_stats(a, "lb.lossy", "-q -c 400 -i 0.02 -W 2")
    t:assert(sent == 400 and received, "ping summary:\n" .. out)
    local lost = 100 * (sent - received) / sent
    t:assert(math.abs(lost - 30) <= 8, string.format("lost %.1f %%, expected about 30", lost))
end)
