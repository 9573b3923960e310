// Computes fixture cache keys (fixture_key.h) from what a fixture file uses:
// its source, the modules it requires (transitively), the fixtures it uses
// (their keys, recursively; a cycle is an error), the host files it names,
// every profile's kernel and initrd content and the protocol versions.
// Image hashes are kept for the life of the keyer, by path, size and mtime.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "config.h"
#include "fixture_file.h"

namespace provium {

class FixtureKeyer {
 public:
  FixtureKeyer(const Config& config, std::vector<std::filesystem::path> roots);

  // Throws FixtureError naming the fixture and what could not be read.
  std::string key_of(const FixtureFile& fixture);
  const std::vector<std::filesystem::path>& roots() const { return roots_; }

 private:
  std::string key_of(const FixtureFile& fixture, std::vector<std::string>& chain);
  std::string image_hash(const std::filesystem::path& path);

  const Config& config_;
  std::vector<std::filesystem::path> roots_;
  std::map<std::tuple<std::string, std::uintmax_t, std::int64_t>, std::string> image_hashes_;
};

}  // namespace provium
