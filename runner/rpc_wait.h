// Waiting on Cap'n Proto promises from synchronous runner code.
#pragma once

#include "deadline.h"

#include <kj/async.h>
#include <kj/exception.h>
#include <kj/timer.h>

#include <chrono>
#include <stdexcept>
#include <string>

namespace provium::runner {

// The supervisor's reason without kj's "remote exception: " decoration.
std::string describe_rpc_failure(const kj::Exception& error);

// Waits for `promise`, turning kj exceptions into std::runtime_error
// carrying the supervisor's reason, prefixed with `what` when given.
template <typename T>
T wait_rpc(kj::Promise<T>&& promise, kj::WaitScope& wait_scope, const std::string& what = {}) {
  try {
    return promise.wait(wait_scope);
  } catch (const kj::Exception& error) {
    throw std::runtime_error(what.empty() ? describe_rpc_failure(error) : what + ": " + describe_rpc_failure(error));
  }
}

}  // namespace provium::runner
