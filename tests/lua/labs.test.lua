-- Labs on real guests (docs/labs.md): sub-labs and their names, membership,
-- batch lifecycle, barriers between coroutines, scope clean-up. The VMs of
-- sub-lab dc1 are booted once and reused by the tests that follow. Tagged
-- needs-kernel: what --vmm local refuses (bridges, pause).
local shared = provium:vm("shared", "default")
local dc1 = provium:lab("dc1")
local a = dc1:vm("a", "default")
local b = dc1:vm("b", "default")
local lan = dc1:bridge("lan")

-- Membership changes made at file scope, checked by a test below.
local moved = provium:vm("moved", "default")
local holder = provium:lab()
holder:include(moved)
provium:remove("moved")

test("sub-lab members are found by the names they were declared with", function(t)
    t:assert_eq(provium.dc1, dc1)
    t:assert_eq(dc1:name(), "dc1")
    t:assert_eq(dc1.a, a)
    t:assert_eq(dc1:vm("b"), b)
    t:assert_eq(dc1.lan, lan)
    t:assert_eq(table.concat(dc1:vm_names(), ","), "a,b")
    t:assert_eq(table.concat(dc1:bridge_names(), ","), "lan")
    -- The supervisor knows them by qualified names.
    t:assert_eq(a:name(), "dc1.a")
    t:assert_eq(lan:name(), "dc1.lan")
    -- A federation sub-lab does not fall through to the root.
    t:assert_eq(dc1.shared, nil)
    t:assert_raises(function() dc1:vm("shared") end)
end)

test("include and remove change the graph only", function(t)
    t:assert_eq(holder:name(), "__lab_0")
    t:assert_eq(holder.moved, moved)
    t:assert_eq(provium.moved, nil)
    t:assert_eq(moved:state(), "created")
    local err = t:assert_raises(function() holder:include(moved) end)
    t:assert_contains(tostring(err), "DuplicateVmName: lab `__lab_0` already has a VM named `moved`")
end)

test("a test may not redeclare a file-scope name", function(t)
    local err = t:assert_raises(function() provium:vm("shared", "default") end)
    t:assert_contains(tostring(err), "`shared` is declared at file scope already")
    t:assert_contains(tostring(err), "provium:vm(\"shared\")")
    err = t:assert_raises(function() provium:lab("dc1") end)
    t:assert_contains(tostring(err), "`dc1` is declared at file scope already")
end)

test("batch boot boots the lab's own VMs and returns the lab", function(t)
    t:assert_eq(dc1:boot(), dc1)
    t:assert_eq(a:state(), "booted")
    t:assert_eq(b:state(), "booted")
    t:assert_eq(shared:state(), "created")
end)

test("sub-lab guests reach each other by their full names", {tags = {"needs-kernel"}}, function(t)
    lan:attach({a, b})
    t:assert_contains(a:read_file("/etc/hosts"), " dc1.b.dc1.lan")
    a:run("ping -c 1 -W 2 dc1.b.dc1.lan"):assert_ok()
    t:assert_eq(a:nic("lan"):bridge(), "dc1.lan")
end)

test("a barrier holds each coroutine until both reached it", function(t)
    local order = {}
    coroutine.wrap(function()
        a:write_file("/tmp/from-a", "a was here")
        order[#order + 1] = "a arrived"
        provium:barrier("both-wrote", 2)
        -- b wrote its file before it reached the barrier.
        t:assert_eq(b:read_file("/tmp/from-b"), "b was here")
        order[#order + 1] = "a passed"
    end)()
    t:assert_eq(table.concat(order, ","), "a arrived")
    coroutine.wrap(function()
        b:write_file("/tmp/from-b", "b was here")
        order[#order + 1] = "b arrived"
        provium:barrier("both-wrote", 2)
        t:assert_eq(a:read_file("/tmp/from-a"), "a was here")
        order[#order + 1] = "b passed"
    end)()
    t:assert_eq(table.concat(order, ","), "a arrived,b arrived,a passed,b passed")
end)

test("a barrier that cannot fill fails the test that waits on it", function(t)
    local err = t:assert_raises(function() provium:barrier("alone", 2) end)
    t:assert_contains(tostring(err), "barrier `alone`: 1 of 2 callers arrived")
    err = t:assert_raises(function() provium:barrier("alone", 0) end)
    t:assert_contains(tostring(err), "count must be a positive number")
end)

test("batch pause and resume act on every VM or on none", {tags = {"needs-kernel"}}, function(t)
    local c = dc1:vm("c", "default")  -- not booted: pause must refuse
    local err = t:assert_raises(function() dc1:pause() end)
    t:assert_contains(tostring(err), "vm `dc1.c` is `created`, not `booted`; nothing was done")
    t:assert_eq(a:state(), "booted")
    dc1:remove(c)
    dc1:pause()
    t:assert_eq(a:state(), "paused")
    t:assert_eq(b:state(), "paused")
    dc1:resume()
    a:run("true"):assert_ok()
    b:run("true"):assert_ok()
end)

test("a test may declare a VM in a file-scope sub-lab", function(t)
    local d = dc1:vm("d", "default")
    t:assert_eq(dc1.d, d)
    t:assert_eq(d:name(), "dc1.d")
end)

test("which leaves the sub-lab when that test ends", function(t)
    t:assert_eq(dc1.d, nil)
    t:assert_eq(table.concat(dc1:vm_names(), ","), "a,b")
end)

test("batch shutdown", function(t)
    dc1:shutdown()
    t:assert_eq(a:state(), "shutdown")
    t:assert_eq(b:state(), "shutdown")
end)

local left_behind
test("a sub-lab made in a test is cleaned at its end", function(t)
    local tmp = provium:lab("tmp")
    left_behind = tmp:vm("x", "default"):boot()
    left_behind:run("true"):assert_ok()
    t:assert_eq(provium.tmp, tmp)
end)

test("so the next test finds neither the sub-lab nor a running VM", function(t)
    t:assert_eq(provium.tmp, nil)
    t:assert_eq(left_behind:state(), "shutdown")
end)
