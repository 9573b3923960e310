// Small helpers for tests that drive the runner through Lua source.
#pragma once

#include "fake_supervisor.h"

#include <gtest/gtest.h>

#include <string>

namespace provium::runner::testing {

// The outcome of the test called `name`; fails the calling test if absent.
const TestOutcome& outcome_named(const FileOutcome& file, const std::string& name);

// Every test in `file` passed and there was no chunk error; otherwise the
// failure lists what went wrong.
::testing::AssertionResult all_passed(const FileOutcome& file);

}  // namespace provium::runner::testing
