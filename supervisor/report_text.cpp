#include "report_text.h"

#include <fmt/format.h>

namespace provium {
namespace {

const char* status_word(FileStatus status) {
  switch (status) {
    case FileStatus::passed: return "PASS";
    case FileStatus::timed_out: return "TIME";
    case FileStatus::failed:
    case FileStatus::crashed: return "FAIL";
  }
  return "FAIL";
}

// First line at `first_indent`, every further line at `rest_indent`.
void append_block(std::string& out, std::string_view text, int first_indent, int rest_indent) {
  int indent = first_indent;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    out += fmt::format("{:{}}{}\n", "", indent, text.substr(start, end - start));
    indent = rest_indent;
    start = end + 1;
  }
}

void append_test(std::string& out, const TestResult& test, Verbosity verbosity) {
  switch (test.status) {
    case TestStatus::failed:
      out += fmt::format("    FAIL {}\n", test.name);
      if (!test.message.empty()) append_block(out, test.message, 8, 8);
      break;
    case TestStatus::passed:
      if (verbosity == Verbosity::verbose) out += fmt::format("    PASS {}\n", test.name);
      break;
    case TestStatus::skipped:
      if (verbosity != Verbosity::verbose) break;
      out += test.message.empty() ? fmt::format("    SKIP {}\n", test.name)
                                  : fmt::format("    SKIP {} \u2014 {}\n", test.name, test.message);
      break;
  }
}

}  // namespace

std::string render_file_text(const FileResult& result, Verbosity verbosity) {
  if (verbosity == Verbosity::quiet && result.passed()) return {};
  const TestCounts counts = result.counts();
  std::string out = fmt::format("{} {} ({} passed, {} failed, {} skipped)\n", status_word(result.status), result.path,
                                counts.passed, counts.failed, counts.skipped);
  if (verbosity == Verbosity::quiet) return out;
  for (const auto& test : result.tests) append_test(out, test, verbosity);
  if (result.chunk_error) append_block(out, *result.chunk_error, 4, 4);
  if (result.error) append_block(out, *result.error, 4, 8);
  return out;
}

std::string render_summary_text(const RunSummary& summary) {
  const double seconds = static_cast<double>(summary.elapsed.count()) / 1000.0;
  return fmt::format("\n{} file(s); {} passed, {} failed, {} skipped; {:.2f}s\n", summary.files,
                     summary.tests.passed, summary.tests.failed, summary.tests.skipped, seconds);
}

void TextReporter::file_finished(const FileResult& result) { out_ << render_file_text(result, verbosity_) << std::flush; }

void TextReporter::run_finished(const RunSummary& summary) { out_ << render_summary_text(summary) << std::flush; }

}  // namespace provium
