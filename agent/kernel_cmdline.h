// The parameters the supervisor passes to the agent on the kernel command line
// (provium.*: the kernel ignores dotted words it has no module for and does not
// hand them to init).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace provium::agent {

// /proc/cmdline, or "" if it cannot be read.
std::string read_kernel_cmdline();

// The value of `name=` in `cmdline` (the last one if repeated); nullopt when
// absent or not a non-negative decimal integer.
std::optional<std::int64_t> cmdline_integer(std::string_view cmdline, std::string_view name);

}  // namespace provium::agent
