// Where a Stream's bytes come from: an agent stream (guest_stream.cpp) or the
// guest console (console_stream_source.h). GuestStream adds the shared
// surface (pending bytes, read_until, drain, eof) on top of any of them.
#pragma once

#include "deadline.h"

#include <cstddef>
#include <optional>
#include <string>

namespace provium::runner {

class StreamSource {
 public:
  virtual ~StreamSource() = default;
  // Up to `max` bytes; nothing when `wait` passes first; "" once the source
  // ended and everything was read. Throws when the test's own deadline passes.
  virtual std::optional<std::string> read(std::size_t max, Deadline wait) = 0;
  // Whether the source is known to have ended (there may still be bytes to read).
  virtual bool ended() = 0;
  // Why it ended, when that was a failure (empty otherwise).
  virtual std::string failure() = 0;
  // Releases the source; called once.
  virtual void close() = 0;
};

}  // namespace provium::runner
