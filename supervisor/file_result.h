// What one test file produced, as the reports print it. Built from what the
// runner reported plus how the runner ended (see file_end.h).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace provium {

enum class TestStatus { passed, failed, skipped };

// passed/failed come from the tests; crashed and timed_out from the runner's end.
enum class FileStatus { passed, failed, crashed, timed_out };

struct TestResult {
  std::string name;
  TestStatus status = TestStatus::passed;
  std::string message;  // failure message or skip reason; empty when none
  std::vector<std::string> log;
  std::chrono::nanoseconds duration{0};
};

struct TestCounts {
  int passed = 0;
  int failed = 0;
  int skipped = 0;
};

struct FileResult {
  std::string path;  // display path
  FileStatus status = FileStatus::passed;
  std::optional<std::string> chunk_error;  // the file itself failed to load or run
  std::optional<std::string> error;        // why the runner crashed or timed out
  std::vector<TestResult> tests;
  std::chrono::milliseconds elapsed{0};
  // A fixture file's returned snapshot as its runner named it (unchecked:
  // FileRun::claim_fixture_snapshot checks it).
  std::optional<std::string> fixture_snapshot;

  TestCounts counts() const;
  bool passed() const { return status == FileStatus::passed; }
};

const char* to_string(TestStatus status);
const char* to_string(FileStatus status);

}  // namespace provium
