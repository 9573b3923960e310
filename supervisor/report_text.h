// The plain-text output (docs: CLI reference, "Output shape"):
//
//   FAIL tests/x.test.lua (2 passed, 1 failed, 0 skipped)
//       FAIL the failing case
//           message lines
//
//   3 file(s); 6 passed, 1 failed, 0 skipped; 12.34s
//
// -v also lists passing and skipped tests; a skip reason follows an em dash
// ("SKIP slow boot — meta.slow (use --include-slow)"). -q prints only the status
// line of files that did not pass, and the summary.
#pragma once

#include <ostream>
#include <string>

#include "reporter.h"
#include "verbosity.h"

namespace provium {

std::string render_file_text(const FileResult& result, Verbosity verbosity);
std::string render_summary_text(const RunSummary& summary);

class TextReporter : public Reporter {
 public:
  TextReporter(std::ostream& out, Verbosity verbosity) : out_(out), verbosity_(verbosity) {}
  void file_finished(const FileResult& result) override;
  void run_finished(const RunSummary& summary) override;

 private:
  std::ostream& out_;
  Verbosity verbosity_;
};

}  // namespace provium
