// What a runner has reported about its file so far. Kept outside the RPC
// objects so it survives the runner's death and the connection's teardown.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "event.h"
#include "file_result.h"

namespace provium {

struct FileProgress {
  bool greeted = false;                    // hello() succeeded
  std::vector<TestResult> finished;        // from testFinished()
  std::optional<std::string> running;      // testStarted() without its testFinished()
  std::chrono::steady_clock::time_point running_since;  // when `running` started
  std::optional<ResourceAmount> claim;     // from claim(), checked
  bool finish_received = false;            // finish() was called
  std::optional<std::string> chunk_error;  // from finish()
  std::vector<TestResult> final_tests;     // from finish()
  std::optional<std::string> fixture_snapshot;  // from finish(), a fixture's returned snapshot (unchecked)
};

}  // namespace provium
