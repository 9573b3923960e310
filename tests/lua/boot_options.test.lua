-- Boot options that take effect in the guest.
-- Tagged needs-kernel: --vmm local boots no kernel, and the suite runs there with --no-tag needs-kernel.
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

test("rng_seed is refused, not ignored", function(t)
    local err = t:assert_raises(function() provium:vm("seeded", "default", {rng_seed = 7}):boot() end)
    t:assert_contains(tostring(err), "rng_seed")
end)
