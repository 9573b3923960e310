-- A fixture that uses another fixture (docs/fixtures.md, "Nesting").
-- Tagged needs-kernel: --vmm local cannot snapshot, so it has no fixtures.
local kernel = {tags = {"needs-kernel"}}

test("a layered fixture has both layers", kernel, function(t)
    local vm = provium:vm_fixture("fixtures/layered")
    t:assert_eq(vm:read_file("/tmp/prepared"), "by the fixture")
    t:assert_eq(vm:read_file("/tmp/layer"), "added by layered")
end)
