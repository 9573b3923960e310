#include "lua_test_helpers.h"

#include <stdexcept>

namespace provium::runner::testing {

const TestOutcome& outcome_named(const FileOutcome& file, const std::string& name) {
  for (const auto& test : file.tests) {
    if (test.name == name) return test;
  }
  throw std::runtime_error("no outcome for test `" + name + "`" +
                           (file.has_chunk_error ? " (chunk error: " + file.chunk_error + ")" : ""));
}

::testing::AssertionResult all_passed(const FileOutcome& file) {
  if (file.has_chunk_error) return ::testing::AssertionFailure() << "chunk error: " << file.chunk_error;
  if (file.tests.empty()) return ::testing::AssertionFailure() << "no tests ran";
  auto result = ::testing::AssertionSuccess();
  bool ok = true;
  std::string report;
  for (const auto& test : file.tests) {
    if (test.status != TestStatus::passed) {
      ok = false;
      report += "\n  " + test.name + ": " + status_name(test.status) + ": " + test.message;
    }
  }
  if (!ok) return ::testing::AssertionFailure() << "not all tests passed:" << report;
  return result;
}

}  // namespace provium::runner::testing
