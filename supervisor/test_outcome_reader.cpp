#include "test_outcome_reader.h"

#include <fmt/format.h>

namespace provium {

std::string capped_text(capnp::Text::Reader text, std::size_t max_bytes) {
  const std::string_view view(text.begin(), text.size());
  if (view.size() <= max_bytes) return std::string(view);
  return fmt::format("{}... [{} more bytes cut]", view.substr(0, max_bytes), view.size() - max_bytes);
}

TestResult read_test_outcome(wire::runner::TestOutcome::Reader outcome) {
  TestResult result;
  result.name = capped_text(outcome.getName(), kMaxTestNameBytes);
  switch (outcome.getStatus()) {
    case wire::runner::TestStatus::PASSED: result.status = TestStatus::passed; break;
    case wire::runner::TestStatus::SKIPPED: result.status = TestStatus::skipped; break;
    default: result.status = TestStatus::failed; break;  // includes unknown values from a newer/hostile runner
  }
  result.message = capped_text(outcome.getMessage(), kMaxMessageBytes);
  const auto log = outcome.getLog();
  for (std::size_t i = 0; i < log.size() && i < kMaxLogEntries; ++i) {
    result.log.push_back(capped_text(log[static_cast<unsigned>(i)], kMaxLogEntryBytes));
  }
  if (log.size() > kMaxLogEntries) result.log.push_back(fmt::format("[{} more log lines cut]", log.size() - kMaxLogEntries));
  result.duration = std::chrono::nanoseconds(static_cast<std::int64_t>(outcome.getDurationNs() & INT64_MAX));
  return result;
}

std::vector<TestResult> read_test_outcomes(capnp::List<wire::runner::TestOutcome>::Reader outcomes) {
  if (outcomes.size() > kMaxTestsPerFile) {
    throw OutcomeError(fmt::format("{} test outcomes; the limit is {}", outcomes.size(), kMaxTestsPerFile));
  }
  std::vector<TestResult> results;
  for (const auto outcome : outcomes) results.push_back(read_test_outcome(outcome));
  return results;
}

}  // namespace provium
