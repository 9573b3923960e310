#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "report_json.h"
#include "report_text.h"

namespace provium {
namespace {

FileResult passing() {
  return FileResult{.path = "tests/smoke.test.lua",
                    .tests = {{.name = "boots"}, {.name = "runs"}, {.name = "slow one", .status = TestStatus::skipped,
                                                                    .message = "meta.slow (use --include-slow)"}}};
}

FileResult failing() {
  return FileResult{.path = "tests/networking/partition.test.lua",
                    .status = FileStatus::failed,
                    .tests = {{.name = "a"},
                              {.name = "split-brain", .status = TestStatus::failed,
                               .message = "client A could not reach client B after partition\nsecond line"},
                              {.name = "b"}}};
}

TEST(TextReport, DefaultShowsFailuresOnly) {
  EXPECT_EQ(render_file_text(passing(), Verbosity::normal), "PASS tests/smoke.test.lua (2 passed, 0 failed, 1 skipped)\n");
  EXPECT_EQ(render_file_text(failing(), Verbosity::normal),
            "FAIL tests/networking/partition.test.lua (2 passed, 1 failed, 0 skipped)\n"
            "    FAIL split-brain\n"
            "        client A could not reach client B after partition\n"
            "        second line\n");
}

TEST(TextReport, VerboseListsEveryTestWithSkipReasons) {
  EXPECT_EQ(render_file_text(passing(), Verbosity::verbose),
            "PASS tests/smoke.test.lua (2 passed, 0 failed, 1 skipped)\n"
            "    PASS boots\n"
            "    PASS runs\n"
            "    SKIP slow one \u2014 meta.slow (use --include-slow)\n");
}

TEST(TextReport, QuietShowsOnlyStatusLinesOfFailingFiles) {
  EXPECT_EQ(render_file_text(passing(), Verbosity::quiet), "");
  EXPECT_EQ(render_file_text(failing(), Verbosity::quiet),
            "FAIL tests/networking/partition.test.lua (2 passed, 1 failed, 0 skipped)\n");
}

TEST(TextReport, TimedOutCrashedAndChunkErrors) {
  FileResult timed_out{.path = "tests/long.test.lua", .status = FileStatus::timed_out,
                       .error = "timed out after 30s", .tests = {{.name = "quick"}}};
  EXPECT_EQ(render_file_text(timed_out, Verbosity::normal),
            "TIME tests/long.test.lua (1 passed, 0 failed, 0 skipped)\n    timed out after 30s\n");

  FileResult crashed{.path = "tests/c.test.lua", .status = FileStatus::crashed,
                     .error = "crashed: the runner was killed by SIGSEGV\nlast output from the runner:\noops"};
  EXPECT_EQ(render_file_text(crashed, Verbosity::normal),
            "FAIL tests/c.test.lua (0 passed, 0 failed, 0 skipped)\n"
            "    crashed: the runner was killed by SIGSEGV\n"
            "        last output from the runner:\n"
            "        oops\n");

  FileResult chunk{.path = "tests/bad.test.lua", .status = FileStatus::failed,
                   .chunk_error = "tests/bad.test.lua:3: unexpected symbol near 'x'"};
  EXPECT_EQ(render_file_text(chunk, Verbosity::normal),
            "FAIL tests/bad.test.lua (0 passed, 0 failed, 0 skipped)\n"
            "    tests/bad.test.lua:3: unexpected symbol near 'x'\n");
}

TEST(TextReport, Summary) {
  RunSummary summary;
  summary.add(passing());
  summary.add(failing());
  summary.elapsed = std::chrono::milliseconds(12345);
  EXPECT_EQ(summary.files, 2);
  EXPECT_EQ(summary.files_not_passed, 1);
  EXPECT_EQ(render_summary_text(summary), "\n2 file(s); 4 passed, 1 failed, 1 skipped; 12.35s\n");
}

TEST(JsonReport, DocumentedSchemaPlusStatusAndError) {
  FileResult result = failing();
  result.tests[1].log = {"line 1", "line 2"};
  const std::string line = render_file_json(result);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json["path"], "tests/networking/partition.test.lua");
  EXPECT_EQ(json["timeout"], "in_time");
  EXPECT_EQ(json["passed"], false);
  EXPECT_TRUE(json["chunk_error"].is_null());
  EXPECT_EQ(json["status"], "failed");
  EXPECT_TRUE(json["error"].is_null());
  ASSERT_EQ(json["tests"].size(), 3u);
  EXPECT_EQ(json["tests"][0],
            nlohmann::json::parse(R"({"name":"a","status":"passed","message":null,"log":[],"duration_ms":0.0})"));
  EXPECT_EQ(json["tests"][1]["status"], "failed");
  EXPECT_EQ(json["tests"][1]["log"], nlohmann::json::parse(R"(["line 1","line 2"])"));
  EXPECT_EQ(line.rfind(R"({"path":"tests/networking/partition.test.lua","timeout":"in_time","passed":false,)", 0), 0u);
}

TEST(JsonReport, TimeoutAndCrashAndBadUtf8) {
  FileResult timed_out{.path = "t", .status = FileStatus::timed_out, .error = "timed out after 1s"};
  const auto json = nlohmann::json::parse(render_file_json(timed_out));
  EXPECT_EQ(json["timeout"], "timed_out");
  EXPECT_EQ(json["status"], "timed_out");
  EXPECT_EQ(json["passed"], false);
  EXPECT_EQ(json["error"], "timed out after 1s");

  FileResult binary{.path = "t", .status = FileStatus::crashed, .chunk_error = std::string("bad \xff byte")};
  const auto parsed = nlohmann::json::parse(render_file_json(binary));
  EXPECT_EQ(parsed["status"], "crashed");
  EXPECT_TRUE(parsed["chunk_error"].is_string());
}

}  // namespace
}  // namespace provium
