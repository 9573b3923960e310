// The only exit codes `provium` uses (see docs: CLI reference, "Exit codes").
#pragma once

namespace provium {

enum ExitCode : int {
  kExitAllPassed = 0,      // every file passed (or skipped)
  kExitSomethingFailed = 1,  // a failed test, crashed runner, timed-out file, or an interrupted run
  kExitInternalError = 2,  // bad flags, config error, failed preflight
  kExitOk = 0,             // a subcommand (guest, fixture ...) did what it was asked
};

}  // namespace provium
