// The cache key of a fixture: SHA-256 over everything whose change must
// rebuild it, in a fixed order, each item length-framed so that no two
// different input sets hash the same bytes. What goes in is listed in
// docs/fixtures.md; gathering it (requires, nested fixtures) is the build's job.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace provium {

struct HostFileDependency {
  std::string path;  // absolute, as resolved from the fixture's directory
  std::int64_t mtime_ns = 0;
  std::uint64_t size = 0;
};

struct ProfileImageIds {
  std::string kernel;  // content hashes (or a stable identifier) of the images
  std::string initrd;
};

struct FixtureKeyInputs {
  std::string fixture_source;
  std::vector<std::string> nested_fixture_keys;           // in the order the fixture uses them
  std::map<std::string, std::string> helper_sources;       // module name -> source, every required helper
  std::map<std::string, ProfileImageIds> profile_images;   // every profile in provium.toml, by name
  std::vector<HostFileDependency> host_files;              // push_file / depends_on_file literals
  std::uint32_t agent_protocol_version = 0;
  std::uint32_t runner_protocol_version = 0;
};

// 64 lowercase hex digits.
std::string fixture_key(const FixtureKeyInputs& inputs);

// Reads path, mtime and size of a host file for the key; throws naming the
// path if it cannot be read.
HostFileDependency describe_host_file(const std::string& absolute_path);

}  // namespace provium
