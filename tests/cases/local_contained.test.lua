-- --vmm local keeps the agent contained: a private root of its own (nothing of
-- the user's files), read-only program trees it cannot remount, only loopback,
-- only its own processes, root inside but no privilege over the host.
-- expect-args: --vmm local
-- expect-exit: 0
-- expect-file: passed
-- expect-test: "the root is the sandbox's own" passed
-- expect-test: "nothing else of the host is mounted" passed
-- expect-test: "home directories and the checkout are out of sight" passed
-- expect-test: "program trees are read-only and stay so" passed
-- expect-test: "only loopback" passed
-- expect-test: "only its own processes" passed
-- expect-test: "root inside, nothing outside" passed
local vm = provium:vm("box", "default"):boot()

local function lines(text)
    local out = {}
    for line in text:gmatch("[^\n]+") do out[#out + 1] = line end
    return out
end

-- What / may hold: the sandbox's own directories and the host's program trees.
local ROOT_ENTRIES = {}
for _, name in ipairs({"bin", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "mnt", "proc", "root",
                       "run", "sbin", "sys", "tmp", "usr", "var"}) do
    ROOT_ENTRIES[name] = true
end

test("the root is the sandbox's own", function(t)
    local r = vm:run("ls -A /")
    r:assert_ok()
    for _, name in ipairs(lines(r.stdout)) do
        t:assert(ROOT_ENTRIES[name], "unexpected /" .. name .. " in the sandbox")
    end
    t:assert_eq(vm:run("stat -f -c %T /").stdout, "tmpfs\n")
end)

test("nothing else of the host is mounted", function(t)
    -- mountinfo: field 4 is the mount's root within its file system, field 5 where it is mounted.
    local host_paths = {["/usr"] = true, ["/bin"] = true, ["/sbin"] = true, ["/lib"] = true, ["/lib32"] = true,
                        ["/lib64"] = true, ["/libx32"] = true, ["/etc/alternatives"] = true,
                        ["/etc/ld.so.cache"] = true, ["/etc/ld.so.conf"] = true, ["/etc/ld.so.conf.d"] = true,
                        ["/etc/localtime"] = true, ["/etc/os-release"] = true, ["/etc/protocols"] = true,
                        ["/etc/services"] = true}
    local devices = {null = true, zero = true, full = true, random = true, urandom = true, tty = true}
    local r = vm:run("awk '{ print $4, $5 }' /proc/self/mountinfo")
    r:assert_ok()
    for _, line in ipairs(lines(r.stdout)) do
        local root, point = line:match("^(%S+) (%S+)$")
        local device = point:match("^/dev/(%a+)$")
        local fresh = root == "/"
        local bound = host_paths[point] and (root == point or root == "/")
        local node = device and devices[device] and root == "/" .. device
        t:assert(fresh or bound or node, "unexpected mount: " .. line)
    end
end)

test("home directories and the checkout are out of sight", function(t)
    t:assert_eq(vm:run("ls -A /home /root /mnt /tmp").stdout, "/home:\n\n/mnt:\n\n/root:\n\n/tmp:\n")
    -- Wherever this checkout lives, its files are nowhere in the sandbox
    -- (/etc/hostname shows that the search does find files).
    local found = vm:run("find / -path /proc -prune -o \\( -name local_contained.test.lua -o -path /etc/hostname \\)"
                         .. " -print 2>/dev/null")
    t:assert_eq(found.stdout, "/etc/hostname\n")
    t:assert_eq(vm:run("test -e /etc/shadow").exit_code, 1)
    t:assert_eq(vm:run("grep -c . /etc/passwd").stdout, "2\n")
end)

test("program trees are read-only and stay so", function(t)
    local r = vm:run("touch /usr/provium-was-here")
    t:assert_neq(r.exit_code, 0)
    t:assert_contains(r.stderr, "Read-only file system")
    -- Root in the sandbox cannot undo it: the mounts are locked.
    t:assert_neq(vm:run("mount -o remount,rw,bind /usr").exit_code, 0)
    t:assert_neq(vm:run("umount -l /usr").exit_code, 0)
    t:assert_eq(vm:run("test -e /usr/provium-was-here").exit_code, 1)
    -- The scratch space is writable.
    vm:run("touch /tmp/x /root/x /etc/x /var/tmp/x /dev/shm/x"):assert_ok()
end)

test("only loopback", function(t)
    local r = vm:run("awk 'NR > 2 { print $1 }' /proc/net/dev")
    r:assert_ok()
    t:assert_eq(r.stdout, "lo:\n")
    t:assert_eq(vm:run("cat /sys/class/net/lo/operstate 2>/dev/null; ls -A /sys").stdout, "")
end)

test("only its own processes", function(t)
    -- The agent as PID 1, the shell and its commands: a handful, not the host's.
    local r = vm:run("ls /proc | grep -c '^[0-9]'")
    r:assert_ok()
    t:assert(tonumber(r.stdout) <= 6, "sees " .. r.stdout .. " processes")
    t:assert_eq(vm:run("cat /proc/1/comm").stdout, "provium-agent\n")
end)

test("root inside, nothing outside", function(t)
    t:assert_eq(vm:run("id -u; id -g").stdout, "0\n0\n")
    -- Host-wide knobs stay out of reach.
    t:assert_neq(vm:run("echo 3 > /proc/sys/vm/drop_caches").exit_code, 0)
    t:assert_neq(vm:run("echo 1 > /proc/sys/kernel/sysrq").exit_code, 0)
    t:assert_eq(vm:run("cat /proc/1/status | grep NoNewPrivs").stdout, "NoNewPrivs:\t1\n")
    -- Only uid 0 exists in its user namespace.
    t:assert_eq(vm:run("cat /proc/self/uid_map | wc -l").stdout, "1\n")
end)
