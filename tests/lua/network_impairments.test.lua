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
    if lan:datapath() == "kernel" then
        -- The kernel datapath needs sch_netem for latency; without it the
        -- request fails naming the missing feature and nothing changes.
        local ok, err = pcall(function() lan:add_latency(50) end)
        if not ok then
            t:assert_contains(tostring(err), "sch_netem")
            t:assert_eq(lan:latency_ms(), 0)
            t:skip("this host's kernel has no sch_netem: latency needs --net user here")
        end
    else
        lan:add_latency(50)  -- each way
    end
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

-- b serves 1 MiB over HTTP; a fetches it through a 2 Mbit/s limit on b -> a.
-- The rate is what a's NIC received over the fetch's time, measured by the
-- guest's own uptime clock.
test("a bandwidth limit holds the transfer to about that rate", {tags = {"needs-kernel"}}, function(t)
    local lan = provium:bridge("narrow")
    local a = provium:vm("ba", "default"):boot()
    local b = provium:vm("bb", "default"):boot()
    lan:attach({a, b})
    b:run("mkdir -p /tmp/www && dd if=/dev/zero of=/tmp/www/blob bs=1024 count=1024 2>/dev/null && " ..
          "httpd -p 8080 -h /tmp/www"):assert_ok()
    a:run("wget -q -O /dev/null http://bb.narrow:8080/blob"):assert_ok()  -- warm, unshaped
    local rate = 2000000
    lan:bandwidth_limit({from = b, to = a, bps = rate})
    local nic = a:nic("narrow")
    local before = nic:counters().rx_bytes
    local out = a:run("cut -d' ' -f1 /proc/uptime; wget -q -O /dev/null http://bb.narrow:8080/blob; " ..
                      "cut -d' ' -f1 /proc/uptime"):assert_ok().stdout
    local started, ended = out:match("^([%d.]+)\n([%d.]+)\n$")
    t:assert(started and ended, "uptimes around the fetch:\n" .. out)
    local seconds = tonumber(ended) - tonumber(started)
    local bits = 8 * (nic:counters().rx_bytes - before)
    local measured = bits / seconds
    t:assert(math.abs(measured - rate) <= 0.15 * rate,
             string.format("measured %.0f bit/s over %.2f s, limit %d", measured, seconds, rate))
    lan:reset()
end)
