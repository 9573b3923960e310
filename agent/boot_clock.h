// initial_time to the nanosecond. QEMU's -rtc base= starts the guest's clock
// at a whole second; the supervisor also passes the exact time on the kernel
// cmdline (provium.initial_time_ns=N), and the agent, first thing as the
// guest's init, moves CLOCK_REALTIME so that it equals N plus the time since
// the kernel started (CLOCK_BOOTTIME): as if the clock had read N at boot.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace provium::agent {

inline constexpr std::string_view kInitialTimeParameter = "provium.initial_time_ns";

// The value of provium.initial_time_ns= in a kernel cmdline (the last one if
// repeated); nullopt when absent or not a non-negative decimal integer.
std::optional<std::int64_t> initial_time_from_cmdline(std::string_view cmdline);

// Reads /proc/cmdline and, if it carries an initial time, sets the clock.
// Failures are logged: the guest still boots, with the -rtc (whole-second) time.
void apply_initial_time_from_cmdline();

}  // namespace provium::agent
