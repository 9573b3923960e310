#include "fixture_key.h"

#include "sha256.h"

#include <sys/stat.h>

#include <cerrno>
#include <system_error>

namespace provium {
namespace {

// Length-framed: "<tag> <length>\n<bytes>".
void fold(Sha256& hash, std::string_view tag, std::string_view bytes) {
  hash.update(tag);
  hash.update(" " + std::to_string(bytes.size()) + "\n");
  hash.update(bytes);
}

}  // namespace

std::string fixture_key(const FixtureKeyInputs& inputs) {
  Sha256 hash;
  fold(hash, "provium-fixture-key", "1");
  fold(hash, "source", inputs.fixture_source);
  for (const std::string& key : inputs.nested_fixture_keys) fold(hash, "fixture", key);
  for (const auto& [name, source] : inputs.helper_sources) {  // std::map: sorted by name
    fold(hash, "helper", name);
    fold(hash, "helper-source", source);
  }
  for (const auto& [name, images] : inputs.profile_images) {
    fold(hash, "profile", name);
    fold(hash, "kernel", images.kernel);
    fold(hash, "initrd", images.initrd);
  }
  for (const HostFileDependency& file : inputs.host_files) {
    fold(hash, "host-file", file.path);
    fold(hash, "mtime-ns", std::to_string(file.mtime_ns));
    fold(hash, "size", std::to_string(file.size));
  }
  fold(hash, "agent-protocol", std::to_string(inputs.agent_protocol_version));
  fold(hash, "runner-protocol", std::to_string(inputs.runner_protocol_version));
  return hash.hex_digest();
}

HostFileDependency describe_host_file(const std::string& absolute_path) {
  struct stat info {};
  if (::stat(absolute_path.c_str(), &info) != 0) {
    throw std::system_error(errno, std::generic_category(), "fixture dependency " + absolute_path);
  }
  return HostFileDependency{
      .path = absolute_path,
      .mtime_ns = static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec,
      .size = static_cast<std::uint64_t>(info.st_size),
  };
}

}  // namespace provium
