// Kernel command line adjustments the supervisor makes before boot.
#pragma once

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

}  // namespace provium
