-- VMs belong to the scope that created them.
local shared = provium:vm("shared", "default")

test("test-scope VMs see the file scope", function(t)
    t:assert_eq(provium:vm("shared"), shared)
    t:assert_eq(provium.shared, shared)
    local mine = provium:vm("mine", "default")
    t:assert_eq(provium:vm("mine"), mine)
end)

test("a test-scope VM is gone after its test", function(t)
    t:assert_eq(provium.mine, nil)
    t:assert_raises(function() provium:vm("mine") end)
end)

local leaked
test("test-scope VMs are shut down at test end", function(t)
    leaked = provium:vm("short", "default"):boot()
    leaked:run("true"):assert_ok()
end)

test("so a later test sees it shut down", function(t)
    t:assert_eq(leaked:state(), "shutdown")
end)

test("a name can be reused in another test", function(t)
    local again = provium:vm("short", "default")
    t:assert_eq(again:state(), "created")
end)
