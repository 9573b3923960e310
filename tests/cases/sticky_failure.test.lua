-- expect-exit: 1
-- expect-file: failed
-- expect-test: "swallowed assertion still fails" failed "should fail"
-- expect-test: "assert_raises restores the flag" passed
test("swallowed assertion still fails", function(t)
    local ok = pcall(function() t:assert(false, "should fail") end)
    t:assert(not ok)
end)

test("assert_raises restores the flag", function(t)
    local err = t:assert_raises(function() t:assert(false, "inner") end)
    t:assert_contains(tostring(err), "inner")
end)
