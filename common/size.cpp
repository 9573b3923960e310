#include "size.h"

#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace provium {

std::uint64_t parse_size(std::string_view text) {
  const std::string input(text);
  const char* begin = input.c_str();
  char* end = nullptr;
  const double value = std::strtod(begin, &end);
  if (input.empty() || end == begin || std::isnan(value) || value < 0) {
    throw std::invalid_argument(fmt::format("bad size `{}`: expected a number with an optional K/M/G/T suffix", input));
  }
  std::string suffix(end);
  // Accept "M", "MB" and "MiB" alike: all binary units here.
  if (suffix.size() == 3 && suffix.substr(1) == "iB") suffix.resize(1);
  if (suffix.size() == 2 && (suffix[1] == 'B' || suffix[1] == 'b')) suffix.resize(1);
  double scale = 1;
  if (suffix.empty() || suffix == "B" || suffix == "b") scale = 1;
  else if (suffix == "K" || suffix == "k") scale = 1024.0;
  else if (suffix == "M" || suffix == "m") scale = 1024.0 * 1024;
  else if (suffix == "G" || suffix == "g") scale = 1024.0 * 1024 * 1024;
  else if (suffix == "T" || suffix == "t") scale = 1024.0 * 1024 * 1024 * 1024;
  else throw std::invalid_argument(fmt::format("bad size `{}`: unknown unit `{}` (use K, M, G or T)", input, suffix));
  const double bytes = value * scale;
  if (bytes > 9.0e18) throw std::invalid_argument(fmt::format("bad size `{}`: too large", input));
  return static_cast<std::uint64_t>(std::llround(bytes));
}

}  // namespace provium
