// Totals over every file that finished, for the summary line.
#pragma once

#include <chrono>

#include "file_result.h"

namespace provium {

struct RunSummary {
  int files = 0;
  int files_not_passed = 0;
  TestCounts tests;
  std::chrono::milliseconds elapsed{0};

  void add(const FileResult& result);
};

}  // namespace provium
