// Where finished files go: printed as soon as each one finishes, then a summary.
#pragma once

#include "file_result.h"
#include "run_summary.h"

namespace provium {

class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void file_finished(const FileResult& result) = 0;
  virtual void run_finished(const RunSummary& summary) = 0;
};

}  // namespace provium
