-- Test networks on real guests (docs/networking.md): the seed example,
-- partitions, isolation, link state, detach. Tagged needs-kernel: --vmm
-- local has no network devices (tests/cases checks how it refuses).

test("two guests on a bridge ping each other by name", {tags = {"needs-kernel"}}, function()
    local lan = provium:bridge("lan")
    local a = provium:vm("a", "default"):boot()
    local b = provium:vm("b", "default"):boot()
    lan:attach({a, b})
    a:run("ping -c 1 -W 1 b.lan"):assert_ok()
end)

test("addresses follow creation order; members and names", {tags = {"needs-kernel"}}, function(t)
    local net = provium:bridge("net")
    t:assert_eq(provium:bridge("net"), net)
    t:assert_eq(net:name(), "net")
    local x = provium:vm("x", "default"):boot()
    local y = provium:vm("y", "default"):boot()
    net:attach(x)
    net:attach(y)
    t:assert_eq(table.concat(net:members(), ","), "x,y")
    -- The file's second bridge is 10.2.0.0/24; x and y are VMs 3 and 4 of the file.
    t:assert_contains(x:run("ip -4 addr"):assert_ok().stdout, "10.2.0.3/24")
    t:assert_contains(y:read_file("/etc/hosts"), "10.2.0.3 x.net")
    y:run("ping -c 1 -W 2 x.net"):assert_ok()
    t:assert_eq(tostring(x:nic("net")), "nic of vm `x` on bridge `net`")
    t:assert_eq(x:nic("eth0"):bridge(), "net")
end)

test("partition and heal, both ways and one way", {tags = {"needs-kernel"}}, function(t)
    local lan = provium:bridge("cut")
    local a = provium:vm("pa", "default"):boot()
    local b = provium:vm("pb", "default"):boot()
    lan:attach({a, b})
    a:run("ping -c 1 -W 2 pb.cut"):assert_ok()
    lan:partition(a, b)
    t:assert(lan:is_partitioned(a, b))
    t:assert_neq(a:run("ping -c 1 -W 1 pb.cut").exit_code, 0)
    lan:unpartition(a, b)
    a:run("ping -c 1 -W 2 pb.cut"):assert_ok()

    -- One way: pa -> pb is dropped, pb -> pa flows. pb's echo requests reach
    -- pa (its NIC counts them) while pa's replies never come back.
    b:run("ping -c 1 -W 2 pa.cut"):assert_ok()  -- ARP needs both ways: learn it first
    lan:partition({from = a, to = b})
    t:assert(lan:is_partitioned(a, b))
    t:assert(not lan:is_partitioned(b, a))
    local before = a:nic("cut"):counters()
    t:assert_neq(b:run("ping -c 3 -W 1 pa.cut").exit_code, 0)
    local after = a:nic("cut"):counters()
    t:assert(after.rx_packets >= before.rx_packets + 3, "pb's requests reached pa")
    t:assert_neq(a:run("ping -c 1 -W 1 pb.cut").exit_code, 0)
    lan:restore_all()
    a:run("ping -c 1 -W 2 pb.cut"):assert_ok()
end)

test("isolation cuts one guest off, and back", {tags = {"needs-kernel"}}, function(t)
    local lan = provium:bridge("iso")
    local a = provium:vm("ia", "default"):boot()
    local b = provium:vm("ib", "default"):boot()
    lan:attach({a, b})
    lan:isolate(b)
    t:assert(lan:is_isolated("ib"))
    t:assert_neq(a:run("ping -c 1 -W 1 ib.iso").exit_code, 0)
    lan:unisolate(b)
    a:run("ping -c 1 -W 2 ib.iso"):assert_ok()
end)

test("nic counters move; disconnect and reconnect", {tags = {"needs-kernel"}}, function(t)
    local lan = provium:bridge("link")
    local a = provium:vm("la", "default"):boot()
    local b = provium:vm("lb", "default"):boot()
    lan:attach({a, b})
    local before = a:nic("link"):counters()
    a:run("ping -c 3 -W 2 lb.link"):assert_ok()
    local after = lan:nic(a):counters()
    t:assert(after.tx_packets >= before.tx_packets + 3, "tx_packets moved")
    t:assert(after.rx_packets >= before.rx_packets + 3, "rx_packets moved")
    local nic = a:nic("link")
    nic:disconnect()
    t:assert_neq(a:run("ping -c 1 -W 1 lb.link").exit_code, 0)
    nic:reconnect()
    -- The guest's link comes back up; give it a few tries.
    a:run("i=0; until ping -c 1 -W 1 lb.link; do i=$((i+1)); [ $i -lt 30 ] || exit 1; done"):assert_ok()
end)

test("detach takes the guest off the bridge and out of the names", {tags = {"needs-kernel"}}, function(t)
    local lan = provium:bridge("leave")
    local a = provium:vm("da", "default"):boot()
    local b = provium:vm("db", "default"):boot()
    lan:attach({a, b})
    a:run("ping -c 1 -W 2 db.leave"):assert_ok()
    lan:detach(b)
    t:assert_eq(table.concat(lan:members(), ","), "da")
    t:assert(not a:read_file("/etc/hosts"):find("db.leave", 1, true))
    t:assert_neq(a:run("ping -c 1 -W 1 10.6.0.12").exit_code, 0)
    lan:attach(b)
    a:run("ping -c 1 -W 2 db.leave"):assert_ok()
end)

test("documented errors", {tags = {"needs-kernel"}}, function(t)
    local lan = provium:bridge("errs")
    local a = provium:vm("ea", "default")
    local err = t:assert_raises(function() lan:partition({from = a, to = "eb"}) end)
    t:assert_contains(tostring(err), "call bridge:attach first")
    err = t:assert_raises(function() lan:attach({a, 42}) end)
    t:assert_contains(tostring(err), "bridge:attach: element 2: expected a VM or a VM name")
    err = t:assert_raises(function() lan:drop_rate(150) end)
    t:assert_contains(tostring(err), "bridge:drop_rate: drop rate in percent")
    if lan:datapath() == "user" then
        err = t:assert_raises(function() lan:enable_uplink() end)
        t:assert_contains(tostring(err), "uplink needs the kernel datapath (--net kernel)")
    else
        t:assert_eq(lan:datapath(), "kernel")
        lan:enable_uplink()
        lan:disable_uplink()
    end
    err = t:assert_raises(function() provium:bridge("bad name") end)
    t:assert_contains(tostring(err), "bad bridge name")
    lan:attach("ghost")  -- graph-only
    t:assert_eq(table.concat(lan:members(), ","), "ghost")
end)

test("a bridge capture is a pcap of the guests' frames", {tags = {"needs-kernel"}}, function(t)
    local lan = provium:bridge("pcap")
    local a = provium:vm("ca", "default"):boot()
    local b = provium:vm("cb", "default"):boot()
    lan:attach({a, b})
    local capture = lan:capture()
    a:run("ping -c 2 -W 2 cb.pcap"):assert_ok()
    -- Bridge 8 of the file; ca and cb are its VMs 14 and 15 (ea of "documented errors" is 13).
    local bytes = ""
    local function has_reply(data)
        local pos = 25
        while pos + 16 <= #data do
            local _, _, caught = provium.unpack("<I4I4I4", data, pos)
            local frame = data:sub(pos + 16, pos + 15 + caught)
            if #frame < caught then return false end
            -- IPv4 (0x0800), protocol ICMP (1), type 0 (echo reply), from cb to ca.
            if frame:sub(13, 14) == "\x08\x00" and frame:byte(24) == 1 and frame:byte(35) == 0
                and frame:sub(27, 30) == "\10\8\0\15" and frame:sub(31, 34) == "\10\8\0\14" then
                return true
            end
            pos = pos + 16 + caught
        end
        return false
    end
    while not has_reply(bytes) do
        local chunk = capture:next("60s")
        t:assert(chunk ~= nil and chunk ~= "", "the capture ended or stalled before an echo reply")
        bytes = bytes .. chunk
    end
    t:assert_eq(provium.unpack("<I4", bytes, 1), 0xa1b2c3d4, "pcap magic (microseconds)")
    t:assert_eq(provium.unpack("<I4", bytes, 21), 1, "link type Ethernet")
    capture:close()
end)

test("a reset guest gets its addresses and names back", {tags = {"needs-kernel"}}, function(t)
    local lan = provium:bridge("again")
    local a = provium:vm("ra", "default"):boot()
    local b = provium:vm("rb", "default"):boot()
    lan:attach({a, b})
    a:run("ping -c 1 -W 2 rb.again"):assert_ok()
    b:reset()  -- a reboot: the agent starts afresh, without the bridge's address or names
    t:assert_contains(b:read_file("/etc/hosts"), "ra.again")
    a:run("ping -c 1 -W 2 rb.again"):assert_ok()
    b:run("ping -c 1 -W 2 ra.again"):assert_ok()
end)

test("a VM attached before it boots joins the bridge when it boots", {tags = {"needs-kernel"}}, function(t)
    local lan = provium:bridge("early")
    local a = provium:vm("ba", "default")
    local b = provium:vm("bb", "default"):boot()
    lan:attach({a, b})  -- a is only created: recorded now, wired when it boots
    t:assert_eq(table.concat(lan:members(), ","), "ba,bb")
    t:assert_eq(a:nic("early"):counters().rx_packets, 0)
    local err = t:assert_raises(function() a:nic("early"):capture() end)
    t:assert_contains(tostring(err), "nic:capture: vm `ba` has no NIC on bridge `early`")
    a:boot()
    a:run("ping -c 1 -W 2 bb.early"):assert_ok()
    b:run("ping -c 1 -W 2 ba.early"):assert_ok()
    b:shutdown()
    err = t:assert_raises(function() provium:bridge("late"):attach(b) end)
    t:assert_contains(tostring(err), "bridge:attach: vm `bb` is shutdown; only a created or booted VM can join")
end)
