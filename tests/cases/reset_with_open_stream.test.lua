-- expect-exit: 1
-- expect-file: failed
-- expect-chunk-error: "stream tail_file `/etc/hostname` (opened at tests/cases/reset_with_open_stream.test.lua:9)"
-- reset_between_tests snapshots the file's VMs after the top level; a stream
-- still open then could not survive the restores, so the file fails and says
-- which stream and where it was opened.
provium.reset_between_tests = true
local v = provium:vm("v", "default"):boot()
local tail = v:tail_file("/etc/hostname")
test("never runs", function(t) end)
