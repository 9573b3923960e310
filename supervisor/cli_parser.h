// Turns argv into a decision: run tests, run a subcommand, or exit now with a
// message (help, version, or a usage error with exit code 2). Pure: it prints
// nothing, so tests can call it.
#pragma once

#include <string>
#include <vector>

#include "run_options.h"

namespace provium {

enum class CliCommand { run_tests, print_guest, fixture_list, fixture_clean, fixture_build, fixture_rebuild, fixture_stale, list, exit_now };

struct CliDecision {
  CliCommand command = CliCommand::exit_now;
  RunOptions options;     // for run_tests (and the config path for the fixture commands)
  int exit_code = 0;      // for exit_now
  std::string stdout_text;
  std::string stderr_text;
};

// `args` excludes the program name.
CliDecision parse_cli(const std::vector<std::string>& args);

}  // namespace provium
