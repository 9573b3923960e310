#include "run_summary.h"

namespace provium {

void RunSummary::add(const FileResult& result) {
  ++files;
  if (!result.passed()) ++files_not_passed;
  const TestCounts counts = result.counts();
  tests.passed += counts.passed;
  tests.failed += counts.failed;
  tests.skipped += counts.skipped;
}

}  // namespace provium
