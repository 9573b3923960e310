// Decides a file's result from what its runner reported and how it ended:
//   finish() and exit 0          -> passed / failed by its tests
//   killed, non-zero exit, or no finish()  -> crashed, with the runner's last output
//   the file's timeout fired     -> timed_out
// Tests that finished before a crash or timeout are kept; the one that was
// running is reported failed with the reason.
#pragma once

#include <string>

#include "duration.h"
#include "file_progress.h"
#include "file_result.h"
#include "subprocess.h"

namespace provium {

enum class RunnerEndKind {
  exited,           // the runner exited (status says how)
  timed_out,        // we killed it at the file timeout
  lingered,         // it called finish() or hung up, then did not exit, so we killed it
  failed_to_start,  // it never ran (status unused; detail says why)
};

struct RunnerEnd {
  RunnerEndKind kind = RunnerEndKind::exited;
  ExitStatus status;
  std::string detail;        // for failed_to_start
  std::string log_tail;      // the runner's last lines of stdout/stderr
  Millis timeout{0};
};

// "killed by SIGSEGV", or for SIGSYS an explanation that the sandbox killed it.
std::string describe_runner_exit(const ExitStatus& status);

FileResult classify_file_end(const std::string& path, const FileProgress& progress, const RunnerEnd& end);

}  // namespace provium
