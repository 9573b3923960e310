// Byte sizes as users write them: 268435456, "512M", "2G", "1.5G", "64K", "1T".
#pragma once

#include <cstdint>
#include <string_view>

namespace provium {

// Binary units (K = 1024). Throws std::invalid_argument naming the input.
std::uint64_t parse_size(std::string_view text);

}  // namespace provium
