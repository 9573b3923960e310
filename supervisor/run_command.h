// The test-runner mode: config, discovery, preflight, then every file through
// the scheduler, results printed as they finish. Returns the exit code.
#pragma once

#include <ostream>

#include "run_options.h"

namespace provium {

int run_tests(const RunOptions& options, std::ostream& out, std::ostream& err);

}  // namespace provium
