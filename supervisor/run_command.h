// The test-runner mode: config, discovery, preflight, then every file through
// the scheduler, results printed as they finish. Returns the exit code.
#pragma once

#include <ostream>

#include "run_options.h"

namespace provium {

int run_tests(const RunOptions& options, std::ostream& out, std::ostream& err);

// `provium fixture build|rebuild|stale [PATH...]`: every *.fixture.lua under
// the paths (default: the config roots, else the cwd), built into the cache
// when missing (build), always (rebuild), or only reported (stale).
enum class FixtureAction { build, rebuild, stale };
int run_fixture_action(FixtureAction action, const RunOptions& options, std::ostream& out, std::ostream& err);

}  // namespace provium
