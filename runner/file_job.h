// What the supervisor asks the runner to do, and what the runner reports back,
// as plain values (the Cap'n Proto forms live only in the RPC adapter).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace provium::runner {

struct TestFilter {
  bool include_slow = false;
  std::vector<std::string> tags;
  std::vector<std::string> no_tags;
  std::vector<std::pair<std::string, std::string>> tag_meta;     // KEY=VALUE
  std::vector<std::pair<std::string, std::string>> no_tag_meta;
};

struct FileJob {
  std::string display_path;   // tests/smoke.test.lua
  std::string chunk_name;     // @tests/smoke.test.lua
  std::string source;
  TestFilter filter;
  bool test_hooks = false;
  bool fixture = false;       // a *.fixture.lua: its chunk returns a Snapshot; no tests
};

enum class TestStatus { passed, failed, skipped };

struct TestOutcome {
  std::string name;
  TestStatus status = TestStatus::passed;
  std::string message;        // failure text or skip reason; empty when passed
  std::vector<std::string> log;
  std::uint64_t duration_ns = 0;
};

struct FileOutcome {
  bool has_chunk_error = false;
  std::string chunk_error;
  std::vector<TestOutcome> tests;
  std::string fixture_snapshot;  // a fixture's returned Snapshot (its path)
};

}  // namespace provium::runner
