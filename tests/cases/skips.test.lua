-- expect-exit: 0
-- expect-file: passed
-- expect-test: "declarative skip" skipped "skip"
-- expect-test: "skip with reason" skipped "see issue #42"
-- expect-test: "inline skip" skipped "not today"
-- expect-test: "slow is filtered" skipped "filtered: slow tests skipped (pass --include-slow)"
-- expect-test: "runs" passed
test("declarative skip", {skip = true}, function(t) error("must not run") end)
test("skip with reason", {skip = "see issue #42"}, function(t) error("must not run") end)
test("inline skip", function(t) t:skip("not today"); error("unreachable") end)
test("slow is filtered", {slow = true}, function(t) error("must not run") end)
test("runs", function(t) t:assert(true) end)
