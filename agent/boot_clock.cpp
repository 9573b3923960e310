#include "boot_clock.h"

#include "guest_clock.h"
#include "kernel_cmdline.h"
#include "log.h"

#include <sys/timex.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace provium::agent {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

// CLOCK_REALTIME - CLOCK_BOOTTIME, which stays constant while nobody sets the
// clock. Read between two realtime readings; the closest pair of a few wins.
std::int64_t realtime_minus_boottime_ns() {
  std::int64_t best_offset = 0;
  std::int64_t best_width = -1;
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::int64_t before = read_clock_ns(CLOCK_REALTIME);
    const std::int64_t boottime = read_clock_ns(CLOCK_BOOTTIME);
    const std::int64_t after = read_clock_ns(CLOCK_REALTIME);
    if (best_width < 0 || after - before < best_width) {
      best_width = after - before;
      best_offset = before + (after - before) / 2 - boottime;
    }
  }
  return best_offset;
}

}  // namespace

std::optional<std::int64_t> initial_time_from_cmdline(std::string_view cmdline) {
  return cmdline_integer(cmdline, kInitialTimeParameter);
}

void apply_initial_time_from_cmdline() {
  const std::optional<std::int64_t> initial_ns = initial_time_from_cmdline(read_kernel_cmdline());
  if (!initial_ns) return;
  // Shift the clock by a measured amount rather than set it to a computed
  // time: setting would be late by however long the system call takes to
  // get there (hundreds of microseconds under TCG); a shift is applied exactly.
  timex shift{};
  shift.modes = ADJ_SETOFFSET | ADJ_NANO;
  std::int64_t delta = *initial_ns - realtime_minus_boottime_ns();
  shift.time.tv_sec = delta / kNanosPerSecond;
  delta %= kNanosPerSecond;
  if (delta < 0) {  // the kernel wants the nanoseconds in [0, 1e9)
    delta += kNanosPerSecond;
    shift.time.tv_sec -= 1;
  }
  shift.time.tv_usec = delta;  // nanoseconds, with ADJ_NANO
  if (::clock_adjtime(CLOCK_REALTIME, &shift) == -1) {
    log_error(std::string("initial time: shifting the clock to provium.initial_time_ns=") +
              std::to_string(*initial_ns) + ": " + std::strerror(errno));
  }
}

}  // namespace provium::agent
