// Kernel command line adjustments the supervisor makes before boot.
#pragma once

#include <cstdint>
#include <string>

namespace provium {

inline constexpr const char* kAgentRdinit = "/sbin/provium-agent";
inline constexpr std::size_t kMaxKernelCmdline = 2048;  // COMMAND_LINE_SIZE on x86

// Appends `rdinit=/sbin/provium-agent` (for the agent overlay). Throws
// std::invalid_argument if the cmdline already pins a different rdinit=.
std::string with_agent_rdinit(const std::string& cmdline);

// Appends `console=ttyS0` unless present: the serial port is what Provium
// captures, so printk and PID 1's /dev/console must land there.
std::string with_serial_console(const std::string& cmdline);

// Appends `provium.rng_preamble=N`: a seeded virtio-rng's stream starts with N
// bytes of preamble that the agent reads past (see agent/seeded_rng_sync.h),
// so userspace sees the seeded sequence from its first byte whatever the
// kernel took before.
inline constexpr std::size_t kRngPreambleBytes = 8192;
std::string with_seeded_rng(const std::string& cmdline);

// Appends `provium.initial_time_ns=N`: the agent sets the wall clock from it
// to the nanosecond (QEMU's -rtc base= is whole seconds). The kernel ignores
// dotted words it has no module for and does not pass them to init.
inline constexpr const char* kInitialTimeParameter = "provium.initial_time_ns";
std::string with_initial_time(const std::string& cmdline, std::int64_t initial_time_ns);

}  // namespace provium
