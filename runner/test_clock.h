// The running test's deadline, shared by the Lua count hook (which interrupts
// Lua code) and every blocking call (which waits no longer than it).
#pragma once

#include "deadline.h"

#include <duration.h>

#include <optional>
#include <stdexcept>
#include <string>

namespace provium::runner {

// Thrown by blocking calls when the test's deadline passes.
class TestTimedOut : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TestClock {
 public:
  // Starts a test; `timeout` empty means no per-test limit.
  void start(std::optional<Millis> timeout);
  // Ends it: nothing is interrupted until the next start().
  void stop();

  Deadline deadline() const { return deadline_; }
  bool expired() const { return deadline_.expired(); }
  // True once the deadline has been seen to pass during this test.
  bool fired() const { return fired_; }
  // "test timed out after 30s"
  std::string message() const;
  // Records the timeout and throws TestTimedOut.
  [[noreturn]] void fire();
  // Whether the deadline has passed; records it (fired() turns true).
  bool note_if_expired();
  // Throws TestTimedOut if the deadline has passed.
  void check();

 private:
  Deadline deadline_ = Deadline::none();
  Millis timeout_{0};
  bool fired_ = false;
};

}  // namespace provium::runner
