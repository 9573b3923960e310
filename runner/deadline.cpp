#include "deadline.h"

#include <climits>

namespace provium::runner {

std::optional<SteadyClock::duration> Deadline::remaining() const {
  if (!when_) return std::nullopt;
  const auto left = *when_ - SteadyClock::now();
  return left > SteadyClock::duration::zero() ? left : SteadyClock::duration::zero();
}

int Deadline::poll_timeout_ms() const {
  const auto left = remaining();
  if (!left) return -1;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*left).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

Deadline Deadline::earliest(const Deadline& other) const {
  if (!when_) return other;
  if (!other.when_) return *this;
  return *when_ <= *other.when_ ? *this : other;
}

}  // namespace provium::runner
