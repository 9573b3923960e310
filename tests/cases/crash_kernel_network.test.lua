-- A runner that crashes in the middle of a test on the kernel datapath leaves
-- nothing of its network behind: run_cases.py watches the run, finds its
-- namespace, its uplink veth and its QEMUs while they exist, then releases
-- the guest's listener below (from inside the file's namespace, through the
-- bridge's gateway address) and checks, once provium exited, that all of
-- them are gone (see tests/cases/README.md, expect-no-network-left).
-- expect-args: --net kernel
-- expect-exit: 1
-- expect-file: crashed
-- expect-test: "crashes with a bridge, an uplink and a capture" failed "killed by SIGABRT"
-- expect-crash: "SIGABRT"
-- expect-no-network-left: release 10.1.0.2:7777
provium.timeout = "180s"

test("crashes with a bridge, an uplink and a capture", function(t)
    local lan = provium:bridge("lan")                 -- bridge 1: 10.1.0.0/24
    local a = provium:vm("a", "default"):boot()       -- VM 1: 10.1.0.1
    local b = provium:vm("b", "default"):boot()       -- VM 2: 10.1.0.2
    lan:attach({a, b})
    lan:enable_uplink()                               -- gateway 10.1.0.254 in the file's namespace
    local capture = lan:capture()
    a:run("ping -c 1 -W 2 b.lan"):assert_ok()
    -- Waits until the checker has seen everything it will later look for;
    -- the checker connects from the file's namespace and sends "go".
    t:assert_contains(b:run("nc -l -p 7777"):assert_ok().stdout, "go")
    t:assert(capture:next("60s") ~= nil, "the capture saw frames")
    _provium_test_hooks.abort()
end)
