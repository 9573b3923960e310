-- expect-exit: 1
-- expect-file: failed
-- expect-test: "boots" passed
-- expect-test: "fails on purpose" failed "1 must equal 2: 1 ~= 2"
-- expect-text: FAIL {path} (1 passed, 1 failed, 0 skipped)
-- expect-text:     FAIL fails on purpose
-- expect-text:         1 must equal 2: 1 ~= 2
test("boots", function(t)
    local vm = provium:vm("v", "default"):boot()
    vm:run("true"):assert_ok()
end)

test("fails on purpose", function(t)
    t:assert_eq(1, 2, "1 must equal 2")
end)
