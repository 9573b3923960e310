// A point in time after which a blocking wait gives up.
#pragma once

#include <chrono>
#include <optional>

namespace provium::runner {

using SteadyClock = std::chrono::steady_clock;

class Deadline {
 public:
  // Waits forever.
  static Deadline none() { return Deadline(); }
  static Deadline at(SteadyClock::time_point when) { return Deadline(when); }
  static Deadline after(SteadyClock::duration delay) { return Deadline(SteadyClock::now() + delay); }

  bool is_none() const { return !when_.has_value(); }
  bool expired() const { return when_.has_value() && SteadyClock::now() >= *when_; }
  // Time left (zero when expired); nothing when there is no deadline.
  std::optional<SteadyClock::duration> remaining() const;
  // For poll(2): -1 without a deadline, else milliseconds left, rounded up.
  int poll_timeout_ms() const;
  // Whichever of the two comes first.
  Deadline earliest(const Deadline& other) const;

 private:
  Deadline() = default;
  explicit Deadline(SteadyClock::time_point when) : when_(when) {}
  std::optional<SteadyClock::time_point> when_;
};

}  // namespace provium::runner
