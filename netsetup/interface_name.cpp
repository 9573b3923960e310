#include "interface_name.h"

#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace provium::netsetup {

void check_interface_name(std::string_view name, std::string_view what) {
  if (name.empty()) throw std::invalid_argument(fmt::format("{} is empty", what));
  if (name.size() > kMaxInterfaceName) {
    throw std::invalid_argument(
        fmt::format("{} `{}` is too long: {} characters, at most {}", what, name, name.size(), kMaxInterfaceName));
  }
  if (name == "." || name == "..") throw std::invalid_argument(fmt::format("{} `{}` is reserved", what, name));
  for (const char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                         c == '.' || c == '-';
    if (!allowed) {
      const auto byte = static_cast<unsigned char>(c);
      const std::string shown = byte > 0x20 && byte < 0x7f ? fmt::format("'{}'", c) : fmt::format("byte 0x{:02x}", byte);
      throw std::invalid_argument(
          fmt::format("{} `{}` has a character outside [A-Za-z0-9_.-]: {}", what, name, shown));
    }
  }
}

}  // namespace provium::netsetup
