-- expect-args: --tag smoke --no-tag flaky
-- expect-exit: 0
-- expect-file: passed
-- expect-test: "tagged smoke" passed
-- expect-test: "single-string tag" passed
-- expect-test: "untagged" skipped "--tag"
-- expect-test: "smoke but flaky" skipped "--no-tag"
test("tagged smoke", {tags = {"smoke", "fast"}}, function(t) end)
test("single-string tag", {tags = "smoke"}, function(t) end)
test("untagged", function(t) error("must not run") end)
test("smoke but flaky", {tags = {"smoke", "flaky"}}, function(t) error("must not run") end)
