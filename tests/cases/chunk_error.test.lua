-- expect-exit: 1
-- expect-file: failed
-- expect-chunk-error: "attempt to call a nil value"
test("never runs", function(t) end)
this_function_does_not_exist()
