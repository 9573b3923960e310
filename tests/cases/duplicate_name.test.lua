-- expect-exit: 1
-- expect-file: failed
-- expect-chunk-error: "test: duplicate name `same` in this file"
test("same", function(t) end)
test("same", function(t) end)
