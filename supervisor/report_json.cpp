#include "report_json.h"

#include <nlohmann/json.hpp>

#include "report_text.h"

namespace provium {
namespace {

using Json = nlohmann::ordered_json;

Json text_or_null(const std::string& text) { return text.empty() ? Json(nullptr) : Json(text); }

Json text_or_null(const std::optional<std::string>& text) { return text ? Json(*text) : Json(nullptr); }

}  // namespace

std::string render_file_json(const FileResult& result) {
  Json tests = Json::array();
  for (const auto& test : result.tests) {
    tests.push_back(Json{{"name", test.name},
                         {"status", to_string(test.status)},
                         {"message", text_or_null(test.message)},
                         {"log", test.log},
                         {"duration_ms", std::chrono::duration<double, std::milli>(test.duration).count()}});
  }
  const Json object{{"path", result.path},
                    {"timeout", result.status == FileStatus::timed_out ? "timed_out" : "in_time"},
                    {"passed", result.passed()},
                    {"chunk_error", text_or_null(result.chunk_error)},
                    {"tests", std::move(tests)},
                    {"status", to_string(result.status)},
                    {"error", text_or_null(result.error)}};
  // Guest and runner text is not guaranteed UTF-8; never let it abort the report.
  return object.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void JsonReporter::file_finished(const FileResult& result) { out_ << render_file_json(result) << '\n' << std::flush; }

void JsonReporter::run_finished(const RunSummary& summary) {
  summary_out_ << render_summary_text(summary) << std::flush;
}

}  // namespace provium
