-- expect-exit: 1
-- expect-file: failed
-- expect-test: "a test past its meta.timeout fails" failed "timed out"
-- expect-test: "the next test still runs" passed
test("a test past its meta.timeout fails", {timeout = "300ms"}, function(t)
    while true do end
end)
test("the next test still runs", function(t) t:assert(true) end)
