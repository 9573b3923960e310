#include "guest_clock.h"

#include <time.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace provium::agent {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

}  // namespace

std::int64_t read_clock_ns(clockid_t clock) {
  timespec now{};
  ::clock_gettime(clock, &now);
  return static_cast<std::int64_t>(now.tv_sec) * kNanosPerSecond + now.tv_nsec;
}

ClockReadings read_clocks() { return ClockReadings{read_clock_ns(CLOCK_REALTIME), read_clock_ns(CLOCK_MONOTONIC)}; }

void set_realtime_clock(std::int64_t realtime_ns) {
  // Floor division, so tv_nsec stays in [0, 1e9) for times before the epoch.
  std::int64_t seconds = realtime_ns / kNanosPerSecond;
  std::int64_t nanos = realtime_ns % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    seconds -= 1;
  }
  timespec target{};
  target.tv_sec = static_cast<time_t>(seconds);
  target.tv_nsec = static_cast<long>(nanos);
  if (::clock_settime(CLOCK_REALTIME, &target) != 0) {
    throw std::system_error(errno, std::generic_category(),
                            "clockSet to " + std::to_string(realtime_ns) + " ns since the epoch");
  }
}

}  // namespace provium::agent
