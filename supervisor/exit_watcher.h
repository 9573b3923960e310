// Resolves when a Subprocess exits, through its pidfd in the kj event loop.
#pragma once

#include <kj/async-unix.h>

#include "subprocess.h"

namespace provium {

class ExitWatcher {
 public:
  // `process` must outlive the watcher.
  ExitWatcher(kj::UnixEventPort& port, Subprocess& process)
      : process_(process), observer_(port, process.pidfd(), kj::UnixEventPort::FdObserver::OBSERVE_READ) {}

  // Reaps the process and returns its status (immediately if it already exited).
  kj::Promise<ExitStatus> exited();

 private:
  Subprocess& process_;
  kj::UnixEventPort::FdObserver observer_;
};

}  // namespace provium
