// One socket to the guest console, as the supervisor hands it over
// (Vm.openConsole): blocking-style reads and writes bounded by a deadline
// (poll(2)), like the agent connection.
#pragma once

#include "deadline.h"

#include <kj/io.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace provium::runner {

class ConsoleConnection {
 public:
  // Takes ownership of the connected fd (made non-blocking here).
  explicit ConsoleConnection(kj::AutoCloseFd fd);

  // Up to `max` bytes; nothing when `deadline` passes first; "" at EOF (the
  // console ended: the VM shut down, or the connection was reset).
  std::optional<std::string> read(std::size_t max, Deadline deadline);
  // Whether EOF is next (nothing buffered and the peer closed), without waiting.
  bool at_eof();
  // Writes all of `data`; false if `deadline` passed first (some bytes may
  // have gone). Throws std::runtime_error when the console is gone.
  bool write(std::string_view data, Deadline deadline);

 private:
  kj::AutoCloseFd fd_;
};

}  // namespace provium::runner
