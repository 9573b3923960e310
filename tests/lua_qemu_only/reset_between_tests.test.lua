-- provium.reset_between_tests = true (docs/snapshots.md). Not in tests/lua:
-- the baseline snapshot is taken at the top level, which --vmm local (no
-- snapshots) cannot do, and tools/test.sh runs tests/lua under --vmm local too.
provium.reset_between_tests = true
local lan = provium:bridge("lan")  -- first: VMs get network devices only when a bridge exists at boot

local v = provium:vm("v", "default"):boot()
v:write_file("/tmp/baseline", "as the top level left it")
local parked = provium:vm("parked", "default"):boot()
parked:pause()
-- VMs on a bridge: restored, they rejoin it on the same NICs, and the
-- bridge's policy goes back to the baseline's.
local peer = provium:vm("peer", "default"):boot()
lan:attach({v, peer})

test("a test changes the guest", function(t)
    v:write_file("/tmp/baseline", "changed by the first test")
    v:write_file("/tmp/extra", "left by the first test")
    t:assert_eq(v:read_file("/tmp/baseline"), "changed by the first test")
end)

test("the next test finds the baseline again", function(t)
    t:assert_eq(v:read_file("/tmp/baseline"), "as the top level left it")
    t:assert(not v:run("test -e /tmp/extra"):ok(), "/tmp/extra survived the reset")
end)

test("a VM shut down by a test is back for the next one", function(t)
    v:shutdown()
    t:assert_eq(v:state(), "shutdown")
end)

test("... booted, as in the baseline; a paused VM is paused again", function(t)
    t:assert_eq(v:state(), "booted")
    t:assert_eq(v:read_file("/tmp/baseline"), "as the top level left it")
    t:assert_eq(parked:state(), "paused")
end)

test("a test partitions the bridge and takes a VM off it", function(t)
    v:run("ping -c 1 -W 5 peer.lan"):assert_ok()
    lan:partition(v, peer)
    t:assert(not v:run("ping -c 1 -W 2 peer.lan"):ok(), "the partition did not hold")
    v:run("ip addr flush dev eth0"):assert_ok()
end)

test("... the next finds both VMs on the bridge, unpartitioned, at their addresses", function(t)
    t:assert(not lan:is_partitioned(v, peer), "the partition survived the reset")
    t:assert_contains(v:run("ip -4 addr show dev eth0"):assert_ok().stdout, "/24")
    v:run("ping -c 1 -W 5 peer.lan"):assert_ok()
    peer:run("ping -c 1 -W 5 v.lan"):assert_ok()
end)
