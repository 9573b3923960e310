-- --vmm local: no kernel; each VM is provium-agent sandboxed on this host, and
-- the Lua bindings work against it as against a guest.
-- expect-args: --vmm local
-- expect-exit: 0
-- expect-file: passed
-- expect-test: "boots and runs commands as root" passed
-- expect-test: "PID 1 is the agent" passed
-- expect-test: "write_file and read_file round-trip in /tmp" passed
-- expect-test: "the hostname is the VM's name" passed
-- expect-test: "the files option and the memory cap" passed
-- expect-test: "kernel options are refused, not ignored" passed
-- expect-test: "a VM shut down is gone; the next one starts fresh" passed
-- expect-test: "VMs are separate from each other" passed
local shared = provium:vm("ops", "default"):boot()

-- How many `sleep` processes this VM can see.
local function sleepers(vm)
    return vm:run("cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^sleep$'").stdout
end

test("boots and runs commands as root", function(t)
    t:assert_eq(shared:state(), "booted")
    local r = shared:run("id -u")
    r:assert_ok()
    t:assert_eq(r.stdout, "0\n")
    t:assert_eq(shared:run("exit 3").exit_code, 3)
    t:assert_eq(shared:run("no-such-program-here").exit_code, 127)
    t:assert_eq(shared:run("cat", {stdin = "piped"}).stdout, "piped")
end)

test("PID 1 is the agent", function(t)
    local r = shared:run("tr '\\0' ' ' < /proc/1/cmdline")
    r:assert_ok()
    t:assert_eq(r.stdout, "/run/provium/provium-agent --connect-fd 3 ")
    t:assert_contains(shared:run("cat /proc/1/status").stdout, "NoNewPrivs:\t1")
end)

test("write_file and read_file round-trip in /tmp", function(t)
    shared:write_file("/tmp/hello", "world")
    t:assert_eq(shared:read_file("/tmp/hello"), "world")
    local binary = "a\0b\255\n"
    shared:write_file("/tmp/binary", binary)
    t:assert_eq(shared:read_file("/tmp/binary"), binary)
    t:assert_eq(shared:run("cat /tmp/hello").stdout, "world")
    local err = t:assert_raises(function() shared:read_file("/tmp/nope") end)
    t:assert_contains(tostring(err), "No such file or directory")
end)

test("the hostname is the VM's name", function(t)
    t:assert_eq(shared:run("hostname").stdout, "ops\n")
    t:assert_contains(shared:read_file("/etc/hosts"), "ops")
end)

test("the files option and the memory cap", function(t)
    local vm = provium:vm("f", "default", {
        memory = "64M",
        files = {{path = "/etc/app/app.conf", content = "port=80\n"}},
    }):boot()
    t:assert_eq(vm:read_file("/etc/app/app.conf"), "port=80\n")
    -- memory caps each scratch tmpfs; it is not a limit on processes.
    t:assert_eq(vm:run("df -k /tmp | awk 'NR == 2 { print $2 }'").stdout, "65536\n")
end)

test("kernel options are refused, not ignored", function(t)
    local err = t:assert_raises(function()
        provium:vm("k", "default", {kernel_cmdline = "quiet"}):boot()
    end)
    t:assert_contains(tostring(err), "--vmm local boots no kernel")
end)

test("a VM shut down is gone; the next one starts fresh", function(t)
    local vm = provium:vm("once", "default"):boot()
    vm:write_file("/tmp/left-behind", "x")
    vm:run("sleep 6021 &"):assert_ok()
    vm:shutdown()
    t:assert_eq(vm:state(), "shutdown")
    local again = provium:vm("again", "default"):boot()
    t:assert_eq(again:run("test -e /tmp/left-behind").exit_code, 1)
    t:assert_eq(sleepers(again), "0\n")
end)

test("VMs are separate from each other", function(t)
    local a = provium:vm("a", "default"):boot()
    local b = provium:vm("b", "default"):boot()
    a:write_file("/tmp/mine", "a")
    t:assert_eq(b:run("test -e /tmp/mine").exit_code, 1)
    t:assert_eq(b:run("hostname").stdout, "b\n")
    -- Neither sees the other's processes.
    a:run("sleep 6022 >/dev/null 2>&1 &"):assert_ok()
    t:assert_eq(sleepers(a), "1\n")
    t:assert_eq(sleepers(b), "0\n")
end)
