-- Boot options that take effect in the guest.
-- Tagged needs-kernel: --vmm local boots no kernel, and the suite runs there with --no-tag needs-kernel.
local strings = require("helpers.strings")

test("files and initial_time reach the guest", {tags = {"needs-kernel"}}, function(t)
    local vm = provium:vm("opts", "default", {
        memory = "192M",
        files = {{path = "/etc/provium-note", content = "from the host\n"}},
        initial_time = 1700000000,
    })
    vm:boot({files = {{path = "/opt/second", content = "merged"}}})
    t:assert_eq(vm:read_file("/etc/provium-note"), "from the host\n")
    t:assert_eq(vm:read_file("/opt/second"), "merged", "boot-time files merge with creation-time files")
    local now = tonumber(vm:run("date +%s").stdout)
    t:assert(now >= 1700000000 and now < 1700000000 + 600, "guest clock starts at initial_time: " .. now)
    local mem_kb = tonumber(vm:run("awk '/MemTotal/ {print $2}' /proc/meminfo").stdout)
    t:assert(mem_kb > 120 * 1024 and mem_kb <= 192 * 1024, "MemTotal follows memory: " .. mem_kb)
end)

-- The kernel keeps CLOCK_REALTIME - CLOCK_MONOTONIC as the realtime base's
-- offset (/proc/timer_list). The agent sets the clock before anything else
-- runs and nothing sets it later, so that offset is initial_time itself: the
-- clock read initial_time when the kernel started.
local function realtime_offset_ns(vm)
    local list = vm:run("cat /proc/timer_list"):assert_ok().stdout
    local offset = list:match("%.index:%s+1%s.-%.offset:%s+(%d+) nsecs")
    return math.tointeger(tonumber(offset))
end

test("initial_time keeps its fraction of a second", {tags = {"needs-kernel"}}, function(t)
    local vm = provium:vm("subsecond", "default", {initial_time = 1700000000.25}):boot()
    local cmdline = vm:read_file("/proc/cmdline")
    t:assert_contains(cmdline, "provium.initial_time_ns=1700000000250000000", "exact nanoseconds on the cmdline")
    local offset = realtime_offset_ns(vm)
    t:assert(offset, "no realtime offset in /proc/timer_list")
    -- QEMU's -rtc alone would leave it a whole second (here 250 ms off); the
    -- agent measures and shifts to within microseconds: allow a millisecond.
    local error_ns = math.abs(offset - 1700000000250000000)
    t:assert(error_ns < 1000000, "the clock read initial_time at boot (off by " .. error_ns .. " ns)")
    local now = vm:clock():get_ns()
    local uptime_s = tonumber(vm:run("cat /proc/uptime").stdout:match("^(%S+)"))
    t:assert(now >= 1700000000250000000 and now < 1700000000250000000 + (uptime_s + 600) * 1e9,
             "the clock runs on from initial_time")
end)

test("initial_time: bad values are refused with the option named", function(t)
    local cases = {
        {0 / 0, "must be a finite number (got NaN)"},
        {math.huge, "must be a finite number (got inf)"},
        {-1, "initial_time"},
        {-0.5, "initial_time"},
        {4200000000, "between 1970 and 2100"},
        {"soon", "initial_time must be seconds since the epoch"},
    }
    for i, case in ipairs(cases) do
        local err = t:assert_raises(function()
            provium:vm("badtime" .. i, "default", {initial_time = case[1]}):boot()
        end)
        t:assert_contains(tostring(err), case[2], "initial_time = " .. tostring(case[1]))
    end
end)

-- The first 64 bytes a guest reads from its virtio-rng, in hex.
local function hwrng_bytes(name, options)
    local vm = provium:vm(name, "default", options):boot()
    local hex = vm:run("head -c 64 /dev/hwrng | od -An -v -tx1 | tr -d ' \\n'"):assert_ok().stdout
    vm:shutdown()
    return hex
end

test("rng_seed: one seed, one byte sequence; another seed, another", {tags = {"needs-kernel"}}, function(t)
    local first = hwrng_bytes("seeded-a", {rng_seed = 7})
    -- The documented generator: ChaCha20 keyed by the seed, from its first byte
    -- (`head -c 64 /dev/zero | openssl enc -chacha20 -K 07000000...00 -iv 00...00`).
    t:assert_eq(first, "f19ee3b965429844e496af300ed6cb0ddf11e75412e4252c931663e75593c729"
        .. "5b94b16ccec5fdef37421c0359fc116ba7fa2ee50e1c6f4af05d8c70e2bfb6f9")
    t:assert_eq(hwrng_bytes("seeded-b", {rng_seed = 7}), first, "same seed, same bytes")
    t:assert_neq(hwrng_bytes("seeded-c", {rng_seed = 8}), first, "another seed, other bytes")
    -- Seeds are u64: Lua's -1 is 0xffffffffffffffff.
    t:assert_eq(#hwrng_bytes("seeded-max", {rng_seed = -1}), 128)
end)

test("without rng_seed the virtio-rng is fed from the host", {tags = {"needs-kernel"}}, function(t)
    local first = hwrng_bytes("unseeded-a", {})
    t:assert_eq(#first, 128)
    t:assert_neq(hwrng_bytes("unseeded-b", {}), first, "two unseeded boots read different bytes")
end)

test("rng_seed: a boot-time seed replaces the creation-time one", {tags = {"needs-kernel"}}, function(t)
    local vm = provium:vm("reseeded", "default", {rng_seed = 8})
    vm:boot({rng_seed = 7})
    local hex = vm:run("head -c 64 /dev/hwrng | od -An -v -tx1 | tr -d ' \\n'"):assert_ok().stdout
    vm:shutdown()
    t:assert_eq(hex, hwrng_bytes("seeded-again", {rng_seed = 7}))
end)

test("cpus and kernel_cmdline reach the guest", {tags = {"needs-kernel"}}, function(t)
    -- kernel_cmdline replaces the profile's: keep the words the bundled guest needs.
    local vm = provium:vm("shape", "default", {
        cpus = 2,
        kernel_cmdline = "quiet loglevel=1 tsc=reliable no_timer_check tsc_early_khz=2000000 mitigations=off "
            .. "panic=-1 provium.marker=boot-options",
    }):boot()
    t:assert_eq(strings.trim(vm:run("nproc"):assert_ok().stdout), "2")
    local cmdline = vm:read_file("/proc/cmdline")
    t:assert_contains(cmdline, "provium.marker=boot-options")
    t:assert(not cmdline:find("cryptomgr.notests", 1, true), "the profile's cmdline was replaced: " .. cmdline)
end)
