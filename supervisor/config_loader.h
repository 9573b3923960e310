// Reads provium.toml. Every error names the file, the line and the key, e.g.
//   provium.toml:7: profiles.fast.cmdline: must not be empty
// Unknown keys are errors too (a typo such as `kernal` must not silently fall
// back to a default).
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "config.h"

namespace provium {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `must_exist` is set for an explicit --config; a missing default
// ./provium.toml gives an empty config instead.
Config load_config(const std::filesystem::path& path, bool must_exist);

// Parses `text` as the file `display_name` whose directory is `base_dir`.
Config parse_config(std::string_view text, const std::string& display_name, const std::filesystem::path& base_dir);

}  // namespace provium
