// provium: discovers *.test.lua files and runs each in a sandboxed
// provium-runner against real QEMU guests. See docs: CLI reference.
#include <csignal>
#include <iostream>

#include <kj/exception.h>

#include "cli_parser.h"
#include "exit_codes.h"
#include "fixture_command.h"
#include "guest_command.h"
#include "list_command.h"
#include "run_command.h"

int main(int argc, char** argv) {
  using namespace provium;
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout must be an error, not a silent death
  try {
    const CliDecision decision = parse_cli(std::vector<std::string>(argv + 1, argv + argc));
    switch (decision.command) {
      case CliCommand::exit_now:
        std::cout << decision.stdout_text << std::flush;
        std::cerr << decision.stderr_text << std::flush;
        return decision.exit_code;
      case CliCommand::print_guest:
        return run_guest_command(std::cout, std::cerr);
      case CliCommand::fixture_list:
        return run_fixture_list(decision.options, std::cout, std::cerr);
      case CliCommand::fixture_clean:
        return run_fixture_clean(decision.options, std::cout, std::cerr);
      case CliCommand::fixture_build:
        return run_fixture_action(FixtureAction::build, decision.options, std::cout, std::cerr);
      case CliCommand::fixture_rebuild:
        return run_fixture_action(FixtureAction::rebuild, decision.options, std::cout, std::cerr);
      case CliCommand::fixture_stale:
        return run_fixture_action(FixtureAction::stale, decision.options, std::cout, std::cerr);
      case CliCommand::list:
        return run_list(decision.options, std::cout, std::cerr);
      case CliCommand::run_tests:
        return run_tests(decision.options, std::cout, std::cerr);
    }
  } catch (const kj::Exception& error) {
    std::cerr << "provium: internal error: " << error.getDescription().cStr() << "\n";
  } catch (const std::exception& error) {
    std::cerr << "provium: internal error: " << error.what() << "\n";
  }
  return kExitInternalError;
}
