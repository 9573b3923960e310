-- One VM declared at file scope, shared by every test in the file.
local vm = provium:vm("shared", "default"):boot()

test("the file-scope VM is booted", function(t)
    t:assert_eq(vm:state(), "booted")
    t:assert_eq(provium:vm("shared"), vm)
end)

test("state persists between tests", function(t)
    vm:write_file("/tmp/counter", "1")
    t:assert_eq(vm:read_file("/tmp/counter"), "1")
end)

test("commands see their arguments and exit codes", function(t)
    local r = vm:run("sh", {"-c", "echo out; echo err >&2; exit 3"})
    t:assert_eq(r.exit_code, 3)
    t:assert_eq(r.stdout, "out\n")
    t:assert_eq(r.stderr, "err\n")
    t:assert_eq(r.status, "exited")
    t:assert(not r:ok())
end)
