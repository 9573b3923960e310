#include "exit_watcher.h"

namespace provium {

kj::Promise<ExitStatus> ExitWatcher::exited() {
  // The observer is edge-triggered and drops events nobody waits for, so always
  // poll before (re)arming it.
  if (auto status = process_.poll()) return *status;
  return observer_.whenBecomesReadable().then([this]() { return exited(); });
}

}  // namespace provium
