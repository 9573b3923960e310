-- vm:push_file: host files read by the supervisor under the roots, written to
-- the guest through the agent. Works the same under --vmm local.
local vm = provium:vm("push", "default"):boot()

test("a file next to the test reaches the guest byte for byte", function(t)
    vm:push_file("helpers/push_payload.txt", "/tmp/payload.txt")
    t:assert_eq(vm:read_file("/tmp/payload.txt"), "payload pushed by push_file.test.lua\n")
    t:assert_eq(vm:stat("/tmp/payload.txt").perm, 420)  -- 0644, like write_file
    t:assert_eq(vm:open_file_count(), 0)
end)

test("pushing replaces what was there", function(t)
    vm:write_file("/tmp/replaced", string.rep("old contents ", 100))
    vm:push_file("./helpers/push_payload.txt", "/tmp/replaced", {auto_dep = false})
    t:assert_eq(vm:read_file("/tmp/replaced"), "payload pushed by push_file.test.lua\n")
end)

test("relative paths start at the calling file's directory", function(t)
    vm:push_file("../../tests/lua/helpers/strings.lua", "/tmp/strings.lua")
    t:assert_contains(vm:read_file("/tmp/strings.lua"), "return")
end)

test("paths outside the roots are refused, naming the path", function(t)
    for _, path in ipairs({"/etc/passwd", "../../../../../../etc/hostname", "/proc/self/environ"}) do
        local err = t:assert_raises(function() vm:push_file(path, "/tmp/stolen") end)
        t:assert_contains(tostring(err), "vm `push`: push_file: host file `" .. path .. "`")
        t:assert_contains(tostring(err), "outside the roots")
    end
    local err = t:assert_raises(function() vm:run("test -e /tmp/stolen"):assert_ok() end)
    t:assert_contains(tostring(err), "exit")
end)

test("missing files, directories and bad arguments are clear errors", function(t)
    local err = t:assert_raises(function() vm:push_file("helpers/nope.txt", "/tmp/x") end)
    t:assert_contains(tostring(err), "host file `helpers/nope.txt`: No such file or directory")
    err = t:assert_raises(function() vm:push_file("helpers", "/tmp/x") end)
    t:assert_contains(tostring(err), "is not a regular file")
    err = t:assert_raises(function() vm:push_file("", "/tmp/x") end)
    t:assert_contains(tostring(err), "the host path is empty")
    err = t:assert_raises(function() vm:push_file("helpers/push_payload.txt") end)
    t:assert_contains(tostring(err), "push_file: guest_path")
    err = t:assert_raises(function() vm:push_file("helpers/push_payload.txt", "/tmp/x", {bogus = true}) end)
    t:assert_contains(tostring(err), "unknown option `bogus`")
    err = t:assert_raises(function() vm:push_file("helpers/push_payload.txt", "/no/such/dir/x") end)
    t:assert_contains(tostring(err), "/no/such/dir/x")
end)

test("a created VM cannot take pushes", function(t)
    local idle = provium:vm("idle", "default")
    local err = t:assert_raises(function() idle:push_file("helpers/push_payload.txt", "/tmp/x") end)
    t:assert_contains(tostring(err), "vm `idle`: push_file: VM is `created`, boot it first")
end)
