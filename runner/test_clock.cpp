#include "test_clock.h"

namespace provium::runner {

void TestClock::start(std::optional<Millis> timeout) {
  fired_ = false;
  timeout_ = timeout.value_or(Millis{0});
  deadline_ = timeout ? Deadline::after(*timeout) : Deadline::none();
}

void TestClock::stop() { deadline_ = Deadline::none(); }

std::string TestClock::message() const { return "test timed out after " + format_duration(timeout_); }

void TestClock::fire() {
  fired_ = true;
  throw TestTimedOut(message());
}

bool TestClock::note_if_expired() {
  if (deadline_.expired()) fired_ = true;
  return fired_ && !deadline_.is_none();
}

void TestClock::check() {
  if (note_if_expired()) fire();
}

}  // namespace provium::runner
