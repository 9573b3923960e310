-- provium:vm_fixture on real guests (docs/fixtures.md). The fixtures live in
-- tests/lua/fixtures/; names are relative to this file's directory. Tagged
-- needs-kernel: --vmm local cannot snapshot, so it has no fixtures.
local kernel = {tags = {"needs-kernel"}}
test("a VM fixture restores the guest its chunk prepared", kernel, function(t)
    local vm = provium:vm_fixture("fixtures/prepared")
    t:assert_eq(vm:state(), "booted")
    t:assert_eq(vm:name(), "prepared")
    t:assert_eq(vm:read_file("/tmp/prepared"), "by the fixture")
    t:assert_eq(vm:read_file("/opt/fixture/state"), "ready\n")
    vm:write_file("/tmp/changed", "by a test")
end)

test("a fixture lives at file scope: a later test gets the same VM", kernel, function(t)
    local again = provium.vm_fixture("fixtures/prepared")
    t:assert_eq(again, provium:vm("prepared"))
    t:assert_eq(again:read_file("/tmp/changed"), "by a test")
end)

test("a fixture that returns something else is refused, naming what it returned", kernel, function(t)
    local ok, err = pcall(function() provium:vm_fixture("fixtures/returns_nothing") end)
    t:assert(not ok, "accepted a fixture returning a number")
    t:assert(tostring(err):find("return vm:snapshot()", 1, true), tostring(err))
    t:assert(tostring(err):find("a number", 1, true), tostring(err))
end)

test("a fixture whose chunk fails names the fixture and the error", kernel, function(t)
    local ok, err = pcall(function() provium:vm_fixture("fixtures/broken") end)
    t:assert(not ok, "a broken fixture was accepted")
    t:assert(tostring(err):find("fixtures/broken", 1, true), tostring(err))
    t:assert(tostring(err):find("broken on purpose", 1, true), tostring(err))
end)

test("an unknown fixture is reported with where it was looked for", kernel, function(t)
    local ok, err = pcall(function() provium:vm_fixture("fixtures/absent") end)
    t:assert(not ok and tostring(err):find("absent.fixture.lua", 1, true), tostring(err))
    ok, err = pcall(function() provium:vm_fixture("../escape") end)
    t:assert(not ok and tostring(err):find("no `..`", 1, true), tostring(err))
end)
