-- The guest console: the kept log, live streams, input. The bundled guest's
-- console is ttyS0; commands write to it with `> /dev/ttyS0`.
-- Tagged needs-kernel: under --vmm local there is no serial console.
local vm = provium:vm("console", "default"):boot()

-- Starts a guest reader of the console that answers one line with
-- "got:<line>", and returns once it holds the tty (a gate file says so), so
-- that nothing written afterwards is lost.
local function start_console_echo(t, gate)
    vm:run("(exec 3</dev/ttyS0; touch " .. gate .. "; read -r line <&3; echo \"got:$line\" > /dev/ttyS0) " ..
           ">/dev/null 2>&1 &"):assert_ok()
    wait_until(function() return vm:run("test -e " .. gate):ok() end,
               {timeout = 60, desc = "the guest's console reader"})
end

test("read_log keeps the boot log from the first byte", {tags = {"needs-kernel"}}, function(t)
    -- The default profile boots quietly; a second guest boots verbosely.
    local cmdline = vm:run("cat /proc/cmdline"):assert_ok().stdout
    cmdline = cmdline:gsub("%f[%w]quiet%f[%W]", ""):gsub("loglevel=%d+", "loglevel=7"):gsub("%s+$", "")
    local loud = provium:vm("loud", "default", {kernel_cmdline = cmdline}):boot()
    local log = loud:console():read_log()
    local at = log:find("Linux version", 1, true)
    t:assert(at ~= nil, "no `Linux version` in the kept log")
    t:assert(at < 200, "the log does not start at the kernel's first line (found at byte " .. tostring(at) .. ")")
    t:assert_contains(log, "Run /init as init process")
end)

test("a console stream replays the kept log, then goes live", {tags = {"needs-kernel"}}, function(t)
    vm:run("echo before-stream > /dev/ttyS0"):assert_ok()
    local console = vm:console()
    wait_until(function() return console:read_log():find("before-stream", 1, true) end,
               {timeout = 60, desc = "`before-stream` in the log"})
    local kept = console:read_log()
    local stream = console:read()
    t:assert_eq(vm:open_stream_count(), 1)
    local replayed = stream:read_until("before-stream")
    t:assert_eq(replayed, kept:sub(1, #replayed), "the stream starts with the kept log")
    vm:run("echo live-line > /dev/ttyS0"):assert_ok()
    stream:expect("live-line", "30s")
    t:assert_eq(console:expect("live-line", "30s"), "live-line")
    stream:close()
    t:assert_eq(stream:next(), nil)
    local err = t:assert_raises(function() stream:expect("x") end)
    t:assert_contains(tostring(err), "console closed")
    t:assert_eq(vm:open_stream_count(), 0)
end)

test("console:write reaches a program reading the console", {tags = {"needs-kernel"}}, function(t)
    local stream = vm:console():read()
    start_console_echo(t, "/tmp/console-gate-1")
    vm:console():write("hello console\n")
    stream:expect("got:hello console", "30s")
    stream:close()
end)

test("a second write goes through the same input", {tags = {"needs-kernel"}}, function(t)
    local console = vm:console()
    local stream = console:read()
    start_console_echo(t, "/tmp/console-gate-2")
    console:write("part one, ", {timeout = "30s"})
    console:write("part two\n", {timeout = 30})
    stream:expect("got:part one, part two", "30s")
    console:close()  -- nothing to release; the stream stays usable
    stream:close()
end)

test("console:expect times out naming the pattern", {tags = {"needs-kernel"}}, function(t)
    local err = t:assert_raises(function() vm:console():expect("never-printed-xyz", "200ms") end)
    t:assert_contains(tostring(err), "never-printed-xyz")
    t:assert_contains(tostring(err), "vm `console`: console:expect")
end)

test("write options are checked", function(t)
    local console = vm:console()
    local err = t:assert_raises(function() console:write("x", {timeout_ms = 500}) end)
    t:assert_contains(tostring(err), 'opts.timeout_ms is not supported (use timeout = "500ms" or timeout = 0.5)')
    err = t:assert_raises(function() console:write("x", {bogus = 1}) end)
    t:assert_contains(tostring(err), "unknown option `bogus`")
    err = t:assert_raises(function() console:write(42) end)
    t:assert_contains(tostring(err), "console:write: data")
end)

test("the kept log stays bounded however much the guest prints", {slow = true, tags = {"needs-kernel"}},
     function(t)
    local chatty = provium:vm("chatty", "default"):boot()
    local unread = chatty:console():read()  -- a reader that never reads must not stall anything
    chatty:run("head -c 700000 /dev/zero | tr '\\0' x > /dev/ttyS0; echo end-of-flood > /dev/ttyS0"):assert_ok()
    chatty:console():expect("end-of-flood", "60s")
    local log = chatty:console():read_log()
    t:assert(#log < 600 * 1024, "the kept log grew to " .. #log .. " bytes")
    t:assert_contains(log, "bytes of console output not kept")
    chatty:run("true"):assert_ok()
    unread:close()
end)

test("a console stream ends when the VM shuts down", {tags = {"needs-kernel"}}, function(t)
    local short = provium:vm("short", "default"):boot()
    local stream = short:console():read()
    short:shutdown()
    wait_until(function()
        local chunk = stream:next("1s")
        return chunk == nil and stream:eof()
    end, {timeout = 60, desc = "console EOF"})
    local err = t:assert_raises(function() short:console():write("x") end)
    t:assert_contains(tostring(err), "shutdown")
end)

test("a created VM has no console yet", function(t)
    local idle = provium:vm("idle", "default")
    local err = t:assert_raises(function() idle:console():read() end)
    t:assert_contains(tostring(err), "vm `idle`: console:read:")
    t:assert_contains(tostring(err), "created")
end)
