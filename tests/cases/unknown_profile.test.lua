-- expect-exit: 1
-- expect-file: failed
-- expect-test: "unknown profile" failed "no profile named `nope`"
test("unknown profile", function(t)
    provium:vm("v", "nope")
end)
