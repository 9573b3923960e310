// Durations as users write them: 30, 1.5, "500ms", "30s", "10m", "2h".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace provium {

using Millis = std::chrono::milliseconds;

// Parses a duration string. A bare number means seconds. Throws
// std::invalid_argument naming the offending input on anything else
// (negative, NaN, unknown suffix, trailing garbage).
Millis parse_duration(std::string_view text);

// Same, for a numeric value in seconds (from Lua or TOML).
Millis seconds_to_duration(double seconds);

// "1.5s", "250ms", "3m0s"-style rendering for messages.
std::string format_duration(Millis duration);

}  // namespace provium
