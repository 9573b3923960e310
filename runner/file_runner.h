// Runs one test file: builds the sandboxed Lua state, runs the top-level
// chunk, then each registered test in order with its own scope and deadline,
// reporting progress through the SupervisorLink as it goes.
#pragma once

#include "file_job.h"
#include "supervisor_link.h"

#include <cstddef>

namespace provium::runner {

struct FileRunnerOptions {
  std::size_t lua_memory_cap;
};

FileOutcome run_test_file(const FileJob& job, SupervisorLink& link, const FileRunnerOptions& options);

}  // namespace provium::runner
