-- expect-exit: 1
-- expect-file: failed
-- expect-test: "unknown profile" failed "unknown profile `nope`; known profiles: default"
test("unknown profile", function(t)
    provium:vm("v", "nope")
end)
