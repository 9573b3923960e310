#include "file_end.h"

#include <csignal>

#include <fmt/format.h>

namespace provium {
namespace {

FileResult from_finish(const std::string& path, const FileProgress& progress) {
  FileResult result{.path = path};
  result.tests = progress.final_tests.empty() ? progress.finished : progress.final_tests;
  result.chunk_error = progress.chunk_error;
  result.fixture_snapshot = progress.fixture_snapshot;
  const bool any_failed = result.counts().failed > 0 || result.chunk_error.has_value();
  result.status = any_failed ? FileStatus::failed : FileStatus::passed;
  return result;
}

// Kept tests plus the interrupted one, failed with `reason`.
FileResult from_partial(const std::string& path, const FileProgress& progress, FileStatus status,
                        const std::string& reason, const std::string& error) {
  FileResult result{.path = path, .status = status};
  const bool use_final = progress.finish_received && !progress.final_tests.empty();
  result.tests = use_final ? progress.final_tests : progress.finished;
  if (progress.running && !progress.finish_received) {
    result.tests.push_back({.name = *progress.running, .status = TestStatus::failed, .message = reason});
  }
  result.chunk_error = progress.chunk_error;
  result.error = error;
  return result;
}

std::string with_log(std::string message, const std::string& log_tail) {
  if (log_tail.empty()) return message + "\n(the runner printed nothing)";
  return message + "\nlast output from the runner:\n" + log_tail;
}

}  // namespace

std::string describe_runner_exit(const ExitStatus& status) {
  if (status.exited) return fmt::format("exited with {}", status.describe());
  if (status.signal == SIGSYS) {
    return "was killed by the sandbox (SIGSYS) for making a forbidden system call";
  }
  return fmt::format("was {}", status.describe());
}

FileResult classify_file_end(const std::string& path, const FileProgress& progress, const RunnerEnd& end) {
  switch (end.kind) {
    case RunnerEndKind::timed_out: {
      const std::string limit = format_duration(end.timeout);
      return from_partial(path, progress, FileStatus::timed_out,
                          fmt::format("the file timed out after {} while this test was running", limit),
                          fmt::format("timed out after {}", limit));
    }
    case RunnerEndKind::lingered: {
      const std::string why = progress.finish_received ? "the runner did not exit after reporting its results"
                                                       : "the runner closed its connection but did not exit";
      return from_partial(path, progress, FileStatus::crashed, why, with_log("crashed: " + why, end.log_tail));
    }
    case RunnerEndKind::failed_to_start:
      return from_partial(path, progress, FileStatus::crashed, "the runner could not be started",
                          "crashed: the runner could not be started: " + end.detail);
    case RunnerEndKind::exited:
      break;
  }
  const bool clean_exit = end.status.exited && end.status.code == 0;
  if (progress.finish_received && clean_exit) return from_finish(path, progress);
  std::string why = "the runner " + describe_runner_exit(end.status);
  if (clean_exit) why += " without reporting its results";
  return from_partial(path, progress, FileStatus::crashed, fmt::format("{} while this test was running", why),
                      with_log("crashed: " + why, end.log_tail));
}

}  // namespace provium
