// clockGet / clockSet: the guest's wall clock (CLOCK_REALTIME) and, for
// reference, its monotonic clock. Setting moves every process's view of the
// wall clock; the monotonic clock never jumps.
#pragma once

#include <time.h>

#include <cstdint>

namespace provium::agent {

struct ClockReadings {
  std::int64_t realtime_ns = 0;
  std::int64_t monotonic_ns = 0;
};

ClockReadings read_clocks();
// One clock in nanoseconds (CLOCK_REALTIME, CLOCK_BOOTTIME, ...).
std::int64_t read_clock_ns(clockid_t clock);

// Throws std::system_error (EINVAL for times the kernel refuses, such as
// before the epoch; EPERM without CAP_SYS_TIME).
void set_realtime_clock(std::int64_t realtime_ns);

}  // namespace provium::agent
