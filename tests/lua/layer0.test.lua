-- Layer 0 against a real (x86_64) guest: raw syscalls and ioctls made in the agent.
local vm = provium:vm("layer0", "default"):boot()

local SYS_read, SYS_write, SYS_getpid = 0, 1, 39
local FIONREAD = 0x541B

test("integer form: getpid is the agent's pid", function(t)
    local r = vm:syscall(SYS_getpid)
    t:assert(r.ret > 0)
    t:assert_eq(r.result, r.ret)
    t:assert_eq(r.errno, 0)
    t:assert_eq(#r.out_bufs, 0)
end)

test("table form: write and read through a file handle's fd", function(t)
    local f = vm:open_file("/tmp/l0", {read = true, write = true, create = true, truncate = true})
    local w = vm:syscall(SYS_write, {args = {f:fd(), 0, 5}, bufs = {"hello"}, ptrs = {1}})
    t:assert_eq(w.ret, 5)
    f:seek(0)
    local r = vm:syscall(SYS_read, {args = {f:fd(), 0, 5}, bufs = {string.rep("\0", 5)}, ptrs = {1}})
    t:assert_eq(r.ret, 5)
    t:assert_eq(r.out_bufs[1], "hello")
    f:close()
    t:assert_eq(vm:read_file("/tmp/l0"), "hello")
end)

test("a failing syscall reports errno", function(t)
    local r = vm:syscall(SYS_read, 9999, 0, 0)
    t:assert_eq(r.ret, -1)
    t:assert_eq(r.errno, 9)  -- EBADF
end)

test("ioctl writes back through data", function(t)
    vm:write_file("/tmp/l0io", "12345678")
    local f = vm:open_file("/tmp/l0io", {read = true})
    local r = vm:ioctl(f:fd(), FIONREAD, string.rep("\0", 4))
    t:assert_eq(r.ret, 0)
    t:assert_eq(string.unpack("<i4", r.out_data), 8)
    f:close()
end)

test("argument errors", function(t)
    local err = t:assert_raises(function() vm:syscall(SYS_getpid, 1, 2, 3, 4, 5, 6, 7) end)
    t:assert_contains(tostring(err), "at most 6 arguments")
    err = t:assert_raises(function() vm:syscall(SYS_read, {args = {}, bufs = {"x"}, ptrs = {6}}) end)
    t:assert_contains(tostring(err), "not an argument slot")
end)

test("calls that would harm the agent are refused by it", function(t)
    local SYS_kill = 62
    local err = t:assert_raises(function() vm:syscall(SYS_kill, 1, 9) end)  -- SIGKILL to PID 1
    t:assert_contains(tostring(err), "vm `layer0`: syscall 62:")
end)
