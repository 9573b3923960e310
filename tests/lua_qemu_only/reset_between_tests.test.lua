-- provium.reset_between_tests = true (docs/snapshots.md). Not in tests/lua:
-- the baseline snapshot is taken at the top level, which --vmm local (no
-- snapshots) cannot do, and tools/test.sh runs tests/lua under --vmm local too.
provium.reset_between_tests = true

local v = provium:vm("v", "default"):boot()
v:write_file("/tmp/baseline", "as the top level left it")
local parked = provium:vm("parked", "default"):boot()
parked:pause()

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
