// Reads a stream until EOF into a TailBuffer, so the writer (a guest console,
// a runner's stderr) never blocks on us and we keep only the end.
#pragma once

#include <kj/async-io.h>

#include "tail_buffer.h"

namespace provium {

// Resolves at EOF or on a read error (treated as EOF). `input` and `sink` must
// outlive the promise.
kj::Promise<void> drain_into(kj::AsyncInputStream& input, TailBuffer& sink);

}  // namespace provium
