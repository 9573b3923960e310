-- vm:batch: ops recorded by fn(b), sent together, answered one by one.
local vm = provium:vm("batch", "default"):boot()

test("the documented example: per-op ok and err", function(t)
    vm:run("rm -f /tmp/a /tmp/b /tmp/missing")
    local results = vm:batch(function(b)
        b:write_file("/tmp/a", "1")
        b:write_file("/tmp/b", "2")
        b:read_file("/tmp/a")
        b:stat("/tmp/missing")
    end)
    t:assert_eq(#results, 4)
    t:assert_eq(results[1].ok, nil)
    t:assert_eq(results[1].err, nil)
    t:assert_eq(results[2].err, nil)
    t:assert_eq(results[3].ok, "1")
    t:assert_eq(results[4].ok, nil)
    t:assert_contains(results[4].err, "No such file or directory")
    t:assert_eq(vm:read_file("/tmp/b"), "2")
end)

test("every op kind returns its documented value", function(t)
    vm:run("rm -rf /tmp/bd /tmp/bx /tmp/by")
    local getpid = 39  -- x86_64
    local results = vm:batch(function(b)
        b:mkdir("/tmp/bd/sub", {parents = true})        -- 1
        b:write_file("/tmp/bx", "hello")                -- 2
        b:rename("/tmp/bx", "/tmp/by")                  -- 3
        b:stat("/tmp/by")                               -- 4
        b:listdir("/tmp/bd")                            -- 5
        b:run("echo ran; exit 2")                       -- 6
        b:run("echo", {"argv", "form"})                 -- 7
        b:syscall(getpid)                               -- 8
        b:unlink("/tmp/by")                             -- 9
        b:read_file("/tmp/by")                          -- 10
    end)
    t:assert_eq(#results, 10)
    for i = 1, 9 do t:assert_eq(results[i].err, nil, "op " .. i) end
    t:assert_eq(results[4].ok.size, 5)
    t:assert_eq(results[4].ok.entry_type, "file")
    t:assert_eq(#results[5].ok, 1)
    t:assert_eq(results[5].ok[1].name, "sub")
    t:assert_eq(results[5].ok[1].entry_type, "directory")
    t:assert_eq(results[6].ok.exit_code, 2)
    t:assert_eq(results[6].ok.stdout, "ran\n")
    t:assert_eq(results[6].ok:ok(), false)
    t:assert_eq(results[7].ok.stdout, "argv form\n")
    t:assert(results[8].ok.ret > 0)
    t:assert_eq(results[8].ok.errno, 0)
    t:assert_contains(results[10].err, "No such file or directory")
end)

test("one failing op does not stop the others", function(t)
    local results = vm:batch(function(b)
        b:unlink("/nonexistent/x")
        b:mkdir("/proc/forbidden")
        b:run("true")
        b:rename("/nonexistent/a", "/tmp/b2")
        b:listdir("/nonexistent")
        b:write_file("/nonexistent/f", "x")
        b:stat("/")
    end)
    t:assert_eq(#results, 7)
    t:assert(results[1].err ~= nil)
    t:assert(results[2].err ~= nil)
    t:assert_eq(results[3].ok.exit_code, 0)
    t:assert(results[4].err ~= nil)
    t:assert(results[5].err ~= nil)
    t:assert(results[6].err ~= nil)
    t:assert_eq(results[7].ok.entry_type, "directory")
end)

test("an empty batch and a big one", function(t)
    t:assert_eq(#vm:batch(function(b) end), 0)
    local results = vm:batch(function(b)
        for i = 1, 300 do b:write_file("/tmp/many-" .. i, tostring(i)) end
        for i = 1, 300 do b:read_file("/tmp/many-" .. i) end
    end)
    t:assert_eq(#results, 600)
    for i = 1, 300 do t:assert_eq(results[300 + i].ok, tostring(i)) end
end)

test("bad arguments are refused while recording, and nothing is sent", function(t)
    vm:run("rm -f /tmp/not-sent")
    local err = t:assert_raises(function()
        vm:batch(function(b)
            b:write_file("/tmp/not-sent", "x")
            b:stat(42)
        end)
    end)
    t:assert_contains(tostring(err), "batch: b:stat: path")
    t:assert_eq(vm:run("test -e /tmp/not-sent").exit_code, 1)
    err = t:assert_raises(function()
        vm:batch(function(b) b:syscall(39, {args = {}}) end)
    end)
    t:assert_contains(tostring(err), "the table form ({args=, bufs=, ptrs=}) is not taken in a batch")
    err = t:assert_raises(function() vm:batch(function(b) b:run("x", {bogus = 1}) end) end)
    t:assert_contains(tostring(err), "unknown option `bogus`")
    err = t:assert_raises(function() vm:batch("not a function") end)
    t:assert_contains(tostring(err), "batch: expected a function that records ops, got string")
    err = t:assert_raises(function()
        vm:batch(function(b) for i = 1, 1025 do b:stat("/") end end)
    end)
    t:assert_contains(tostring(err), "at most 1024 ops fit in one batch")
    -- An error raised by fn itself propagates.
    err = t:assert_raises(function() vm:batch(function(b) error("mine") end) end)
    t:assert_contains(tostring(err), "mine")
end)

test("the collector is sealed once the batch is sent", function(t)
    local kept
    vm:batch(function(b) kept = b end)
    local err = t:assert_raises(function() kept:stat("/") end)
    t:assert_contains(tostring(err), "this batch was sent already")
end)

test("a run timeout inside a batch is that op's result", function(t)
    local results = vm:batch(function(b)
        b:run("exec sleep 600", {timeout = "200ms"})
        b:stat("/")
    end)
    t:assert_eq(results[1].ok.status, "timed_out")
    t:assert_eq(results[1].ok.exit_code, -2)
    t:assert_eq(results[2].ok.entry_type, "directory")
end)

test("a created VM refuses a batch with its state", function(t)
    local fresh = provium:vm("batch-fresh", "default")
    local err = t:assert_raises(function() fresh:batch(function(b) b:stat("/") end) end)
    t:assert_contains(tostring(err), "created")
end)
