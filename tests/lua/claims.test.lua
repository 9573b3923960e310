-- provium:claim on real guests (docs/labs.md): the file's VMs may not run
-- past it at once. The default profile gives 256 MiB and 1 CPU.
provium:claim({memory = "384M", cpus = 2})
provium:depends_on_file("helpers/strings.lua")

local a = provium:vm("a", "default")
local b = provium:vm("b", "default")

test("a boot within the claim goes through", function(t)
    a:boot()
    a:run("true"):assert_ok()
end)

test("a boot beyond the claim is refused, naming the claim and the need", function(t)
    local err = tostring(t:assert_raises(function() b:boot() end))
    t:assert_contains(err, "vm `b`: boot refused: it would exceed the file's claim")
    t:assert_contains(err, "claims.test.lua:3")
    t:assert_contains(err, "memory: it needs 256 MiB, running VMs hold 256 MiB, the claim allows 384 MiB")
    t:assert_eq(b:state(), "created")
end)

test("a shut-down VM gives its share back", function(t)
    a:shutdown()
    b:boot()
    b:run("true"):assert_ok()
end)

test("a file has one claim", function(t)
    local err = t:assert_raises(function() provium:claim({cpus = 1}) end)
    t:assert_contains(tostring(err), "claim already taken (by provium:claim at")
end)

test("depends_on_file checks its argument and does nothing else", function(t)
    provium:depends_on_file("anything.txt")
    local err = t:assert_raises(function() provium:depends_on_file(42) end)
    t:assert_contains(tostring(err), "expected a host path (a string literal), got number")
end)
