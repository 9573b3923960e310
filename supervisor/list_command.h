// `provium list [--fixtures] [PATH...]`: the *.test.lua files a run with the
// same paths, config and --filter would run, or the *.fixture.lua files under
// those paths, one display path per line. Nothing is booted, no preflight runs.
#pragma once

#include <ostream>

#include "run_options.h"

namespace provium {

int run_list(const RunOptions& options, std::ostream& out, std::ostream& err);

}  // namespace provium
