#include "file_end.h"

#include <csignal>

#include <gtest/gtest.h>

#include "tail_buffer.h"

namespace provium {
namespace {

FileProgress finished_progress() {
  FileProgress progress;
  progress.greeted = true;
  progress.finished = {{.name = "a"}, {.name = "b", .status = TestStatus::failed, .message = "boom"}};
  progress.final_tests = progress.finished;
  progress.finish_received = true;
  return progress;
}

RunnerEnd exited(int code) { return {.kind = RunnerEndKind::exited, .status = {.exited = true, .code = code}}; }

RunnerEnd killed(int signal) {
  return {.kind = RunnerEndKind::exited, .status = {.signal = signal}, .log_tail = "lua: oops"};
}

TEST(FileEnd, FinishAndExitZeroIsDecidedByTheTests) {
  FileResult result = classify_file_end("t.test.lua", finished_progress(), exited(0));
  EXPECT_EQ(result.status, FileStatus::failed);
  EXPECT_EQ(result.tests.size(), 2u);
  EXPECT_FALSE(result.error);

  FileProgress all_pass = finished_progress();
  all_pass.final_tests.pop_back();
  EXPECT_EQ(classify_file_end("t", all_pass, exited(0)).status, FileStatus::passed);

  FileProgress chunk = finished_progress();
  chunk.final_tests.clear();
  chunk.finished.clear();
  chunk.chunk_error = "t:1: syntax error";
  result = classify_file_end("t", chunk, exited(0));
  EXPECT_EQ(result.status, FileStatus::failed);
  EXPECT_EQ(result.chunk_error, "t:1: syntax error");
}

TEST(FileEnd, CrashKeepsFinishedTestsAndFailsTheRunningOne) {
  FileProgress progress;
  progress.greeted = true;
  progress.finished = {{.name = "first"}};
  progress.running = "second";
  const FileResult result = classify_file_end("t", progress, killed(SIGSEGV));
  EXPECT_EQ(result.status, FileStatus::crashed);
  ASSERT_EQ(result.tests.size(), 2u);
  EXPECT_EQ(result.tests[1].name, "second");
  EXPECT_EQ(result.tests[1].status, TestStatus::failed);
  EXPECT_EQ(result.tests[1].message, "the runner was killed by SIGSEGV while this test was running");
  EXPECT_EQ(*result.error, "crashed: the runner was killed by SIGSEGV\nlast output from the runner:\nlua: oops");
}

TEST(FileEnd, SigsysNamesTheSandbox) {
  const FileResult result = classify_file_end("t", FileProgress{}, killed(SIGSYS));
  EXPECT_NE(result.error->find("killed by the sandbox (SIGSYS) for making a forbidden system call"), std::string::npos);
}

TEST(FileEnd, ExitWithoutFinishOrNonZeroIsACrash) {
  EXPECT_EQ(*classify_file_end("t", FileProgress{}, exited(0)).error,
            "crashed: the runner exited with exit code 0 without reporting its results\n(the runner printed nothing)");
  const FileResult result = classify_file_end("t", finished_progress(), exited(3));
  EXPECT_EQ(result.status, FileStatus::crashed);
  EXPECT_EQ(result.tests.size(), 2u);
  EXPECT_EQ(result.error->rfind("crashed: the runner exited with exit code 3", 0), 0u);
}

TEST(FileEnd, Timeout) {
  FileProgress progress;
  progress.finished = {{.name = "quick"}};
  progress.running = "slow";
  const FileResult result =
      classify_file_end("t", progress, {.kind = RunnerEndKind::timed_out, .timeout = std::chrono::seconds(30)});
  EXPECT_EQ(result.status, FileStatus::timed_out);
  EXPECT_EQ(*result.error, "timed out after 30s");
  ASSERT_EQ(result.tests.size(), 2u);
  EXPECT_EQ(result.tests[1].message, "the file timed out after 30s while this test was running");
}

TEST(FileEnd, LingeringAndUnstartableRunners) {
  EXPECT_EQ(classify_file_end("t", finished_progress(), {.kind = RunnerEndKind::lingered}).status,
            FileStatus::crashed);
  const FileResult result =
      classify_file_end("t", FileProgress{}, {.kind = RunnerEndKind::failed_to_start, .detail = "exec: ENOENT"});
  EXPECT_EQ(*result.error, "crashed: the runner could not be started: exec: ENOENT");
}

TEST(TailBuffer, KeepsTheEnd) {
  TailBuffer buffer(8);
  buffer.append("hello ");
  buffer.append("world, again");
  EXPECT_EQ(buffer.tail(100), "d, again");  // capacity 8 -> the last 8 bytes
  EXPECT_EQ(buffer.tail(3), "ain");
  EXPECT_EQ(buffer.total_written(), 18u);
  TailBuffer lines(1024);
  lines.append("one\ntwo\nthree\nfour\n\n");
  EXPECT_EQ(lines.last_lines(1), "four");
  EXPECT_EQ(lines.last_lines(2), "three\nfour");
  EXPECT_EQ(lines.last_lines(100), "one\ntwo\nthree\nfour");
  for (int i = 0; i < 1000; ++i) lines.append("xxxxxxxx");
  EXPECT_EQ(lines.tail(5000).size(), 1024u);
}

}  // namespace
}  // namespace provium
