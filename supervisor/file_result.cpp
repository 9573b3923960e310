#include "file_result.h"

namespace provium {

TestCounts FileResult::counts() const {
  TestCounts counts;
  for (const auto& test : tests) {
    switch (test.status) {
      case TestStatus::passed: ++counts.passed; break;
      case TestStatus::failed: ++counts.failed; break;
      case TestStatus::skipped: ++counts.skipped; break;
    }
  }
  return counts;
}

const char* to_string(TestStatus status) {
  switch (status) {
    case TestStatus::passed: return "passed";
    case TestStatus::failed: return "failed";
    case TestStatus::skipped: return "skipped";
  }
  return "failed";
}

const char* to_string(FileStatus status) {
  switch (status) {
    case FileStatus::passed: return "passed";
    case FileStatus::failed: return "failed";
    case FileStatus::crashed: return "crashed";
    case FileStatus::timed_out: return "timed_out";
  }
  return "crashed";
}

}  // namespace provium
