// `--json`: one object per file, one per line, in the documented schema
// (path, timeout, passed, chunk_error, tests[{name, status, message, log}])
// plus two fields of ours: "status" ("passed" | "failed" | "crashed" |
// "timed_out") and "error" (why the runner crashed or timed out, else null).
// The summary line goes to the second stream (stderr) so stdout stays JSON.
#pragma once

#include <ostream>
#include <string>

#include "reporter.h"

namespace provium {

std::string render_file_json(const FileResult& result);

class JsonReporter : public Reporter {
 public:
  JsonReporter(std::ostream& out, std::ostream& summary_out) : out_(out), summary_out_(summary_out) {}
  void file_finished(const FileResult& result) override;
  void run_finished(const RunSummary& summary) override;

 private:
  std::ostream& out_;
  std::ostream& summary_out_;
};

}  // namespace provium
