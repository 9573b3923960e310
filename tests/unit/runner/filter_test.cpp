// meta.skip, meta.slow and the --tag / --no-tag / --tag-meta / --no-tag-meta
// filters, with their documented reasons and precedence.
#include "lua_test_helpers.h"

#include <gtest/gtest.h>

namespace provium::runner::testing {
namespace {

constexpr const char* kTaggedFile = R"lua(
test("skip true", {skip = true}, function(t) error("ran") end)
test("skip reason", {skip = "see issue #42"}, function(t) error("ran") end)
test("skip one", {skip = 1}, function(t) error("ran") end)
test("skip zero", {skip = 0}, function(t) end)
test("skip false", {skip = false}, function(t) end)
test("slow", {slow = true}, function(t) end)
test("net dns", {tags = {"net", "dns"}}, function(t) end)
test("ipv6 string tag", {tags = "ipv6"}, function(t) end)
test("untagged", function(t) end)
test("peinit boot", {subsystems = {"peinit", "loregd"}, area = "boot"}, function(t) end)
test("peinit net", {subsystems = {"peinit"}, area = "net"}, function(t) end)
test("flaky", {flaky = "true"}, function(t) end)
test("flaky bool", {flaky = true, count = 3}, function(t) end)
)lua";

const std::string& reason(const FileOutcome& file, const std::string& name) {
  return outcome_named(file, name).message;
}

TEST(Filters, DeclarativeSkipAndSlow) {
  const FileOutcome file = run_lua_file(kTaggedFile);
  EXPECT_EQ(reason(file, "skip true"), "skipped (meta.skip)");
  EXPECT_EQ(reason(file, "skip reason"), "skipped: see issue #42");
  EXPECT_EQ(reason(file, "skip one"), "skipped (meta.skip)");
  EXPECT_EQ(outcome_named(file, "skip zero").status, TestStatus::passed);
  EXPECT_EQ(outcome_named(file, "skip false").status, TestStatus::passed);
  EXPECT_EQ(outcome_named(file, "slow").status, TestStatus::skipped);
  EXPECT_EQ(reason(file, "slow"), "filtered: slow tests skipped (pass --include-slow)");

  TestFilter include_slow;
  include_slow.include_slow = true;
  EXPECT_EQ(outcome_named(run_lua_file(kTaggedFile, include_slow), "slow").status, TestStatus::passed);
}

TEST(Filters, TagsAreOredAndNoTagWins) {
  TestFilter filter;
  filter.tags = {"dns", "ipv6"};
  FileOutcome file = run_lua_file(kTaggedFile, filter);
  EXPECT_EQ(outcome_named(file, "net dns").status, TestStatus::passed);
  // A single-string tag counts as that tag.
  EXPECT_EQ(outcome_named(file, "ipv6 string tag").status, TestStatus::passed);
  EXPECT_EQ(reason(file, "untagged"), "filtered: did not match --tag dns, ipv6");

  filter.no_tags = {"net"};
  file = run_lua_file(kTaggedFile, filter);
  EXPECT_EQ(reason(file, "net dns"), "filtered: tagged `net` (--no-tag net)");
  EXPECT_EQ(outcome_named(file, "ipv6 string tag").status, TestStatus::passed);
}

TEST(Filters, TagMetaIsOrWithinAKeyAndAcrossKeys) {
  TestFilter filter;
  filter.tag_meta = {{"subsystems", "peinit"}, {"subsystems", "nothing"}};
  FileOutcome file = run_lua_file(kTaggedFile, filter);
  EXPECT_EQ(outcome_named(file, "peinit boot").status, TestStatus::passed);
  EXPECT_EQ(outcome_named(file, "peinit net").status, TestStatus::passed);
  EXPECT_EQ(reason(file, "untagged"), "filtered: did not match --tag-meta subsystems=peinit|nothing");

  filter.tag_meta.push_back({"area", "boot"});
  file = run_lua_file(kTaggedFile, filter);
  EXPECT_EQ(outcome_named(file, "peinit boot").status, TestStatus::passed);
  EXPECT_EQ(reason(file, "peinit net"), "filtered: did not match --tag-meta area=boot");
}

TEST(Filters, NoTagMetaWinsAndOnlyMatchesStrings) {
  TestFilter filter;
  filter.no_tag_meta = {{"flaky", "true"}};
  filter.tag_meta = {{"flaky", "true"}};
  FileOutcome file = run_lua_file(kTaggedFile, filter);
  EXPECT_EQ(reason(file, "flaky"), "filtered: --no-tag-meta flaky=true");
  // A boolean is not the string "true": no match either way.
  EXPECT_EQ(reason(file, "flaky bool"), "filtered: did not match --tag-meta flaky=true");

  TestFilter numbers;
  numbers.tag_meta = {{"count", "3"}};
  EXPECT_EQ(outcome_named(run_lua_file(kTaggedFile, numbers), "flaky bool").status, TestStatus::skipped);
}

TEST(Filters, MetaSkipComesFirst) {
  TestFilter filter;
  filter.tags = {"net"};
  const FileOutcome file = run_lua_file(R"lua(
test("both", {skip = "broken", slow = true, tags = {"other"}}, function(t) end)
)lua", filter);
  EXPECT_EQ(reason(file, "both"), "skipped: broken");
}

}  // namespace
}  // namespace provium::runner::testing
