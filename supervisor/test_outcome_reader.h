// Converts the runner's TestOutcome / FileOutcome into our results. The runner
// is untrusted: texts are truncated to fixed caps and counts are bounded, so a
// hostile runner cannot make the supervisor hold unbounded memory.
#pragma once

#include <stdexcept>

#include "file_result.h"
#include "runner.capnp.h"

namespace provium {

inline constexpr std::size_t kMaxTestNameBytes = 1024;
inline constexpr std::size_t kMaxMessageBytes = 64 * 1024;
inline constexpr std::size_t kMaxLogEntries = 1000;
inline constexpr std::size_t kMaxLogEntryBytes = 4096;
inline constexpr std::size_t kMaxTestsPerFile = 10000;

class OutcomeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Text from the wire, cut to `max_bytes` with a marker when longer.
std::string capped_text(capnp::Text::Reader text, std::size_t max_bytes);

TestResult read_test_outcome(wire::runner::TestOutcome::Reader outcome);

// Throws OutcomeError when there are more than kMaxTestsPerFile tests.
std::vector<TestResult> read_test_outcomes(capnp::List<wire::runner::TestOutcome>::Reader outcomes);

}  // namespace provium
