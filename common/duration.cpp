#include "duration.h"

#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

namespace provium {

Millis seconds_to_duration(double seconds) {
  if (std::isnan(seconds)) throw std::invalid_argument("bad duration: NaN");
  if (seconds < 0) throw std::invalid_argument(fmt::format("bad duration: {} is negative", seconds));
  if (!std::isfinite(seconds) || seconds > 1e12) {
    throw std::invalid_argument(fmt::format("bad duration: {} is too large", seconds));
  }
  return Millis(static_cast<long long>(std::llround(seconds * 1000.0)));
}

Millis parse_duration(std::string_view text) {
  const std::string input(text);
  if (input.empty()) throw std::invalid_argument("bad duration string ``: empty");
  const char* begin = input.c_str();
  char* end = nullptr;
  const double value = std::strtod(begin, &end);
  if (end == begin) {
    throw std::invalid_argument(fmt::format("bad duration string `{}`: expected a number", input));
  }
  const std::string_view suffix(end);
  double scale = 1.0;  // seconds
  if (suffix.empty() || suffix == "s") {
    scale = 1.0;
  } else if (suffix == "ms") {
    scale = 0.001;
  } else if (suffix == "m") {
    scale = 60.0;
  } else if (suffix == "h") {
    scale = 3600.0;
  } else {
    throw std::invalid_argument(
        fmt::format("bad duration string `{}`: unknown unit `{}` (use ms, s, m or h)", input, suffix));
  }
  try {
    return seconds_to_duration(value * scale);
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(fmt::format("bad duration string `{}`: {}", input, error.what()));
  }
}

std::string format_duration(Millis duration) {
  const auto ms = duration.count();
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{:.3g}s", static_cast<double>(ms) / 1000.0);
}

}  // namespace provium
