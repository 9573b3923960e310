-- expect-exit: 0
-- expect-file: passed
-- expect-test: "require cannot leave the roots" passed
test("require cannot leave the roots", function(t)
    for _, name in ipairs({"../../etc/passwd", "/etc/passwd", "..", "a..b", "x\0y"}) do
        local ok, err = pcall(require, name)
        t:assert(not ok, "require accepted " .. name)
        t:log(tostring(err))
    end
end)
