// Whole-file reads with a size cap; errors name the path.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace provium {

// Throws std::runtime_error ("<path>: <reason>") when unreadable or larger
// than `max_bytes` (the size is checked before reading).
std::string read_file_capped(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace provium
