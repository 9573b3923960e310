#include "fixture_keyer.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

#include <fmt/format.h>

#include "agent.capnp.h"
#include "file_io.h"
#include "fixture_dependency_scan.h"
#include "fixture_key.h"
#include "module_resolver.h"
#include "runner.capnp.h"
#include "sha256.h"

namespace provium {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxFixtureBytes = 4 * 1024 * 1024;

std::string read_source(const fs::path& path, const std::string& what) {
  try {
    return read_file_capped(path, kMaxFixtureBytes);
  } catch (const std::exception& error) {
    throw FixtureError(fmt::format("{}: {}", what, error.what()));
  }
}

}  // namespace

FixtureKeyer::FixtureKeyer(const Config& config, std::vector<fs::path> roots)
    : config_(config), roots_(std::move(roots)) {}

std::string FixtureKeyer::image_hash(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw FixtureError(fmt::format("cannot read guest image {}", path.string()));
  const auto id = std::make_tuple(path.string(), static_cast<std::uintmax_t>(st.st_size),
                                  static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec);
  if (auto found = image_hashes_.find(id); found != image_hashes_.end()) return found->second;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FixtureError(fmt::format("cannot read guest image {}", path.string()));
  Sha256 hash;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    hash.update(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())));
  }
  return image_hashes_[id] = hash.hex_digest();
}

std::string FixtureKeyer::key_of(const FixtureFile& fixture) {
  std::vector<std::string> chain;
  return key_of(fixture, chain);
}

std::string FixtureKeyer::key_of(const FixtureFile& fixture, std::vector<std::string>& chain) {
  const std::string here = fixture.path.string();
  if (std::find(chain.begin(), chain.end(), here) != chain.end()) {
    std::string cycle;
    for (const auto& step : chain) cycle += step + " -> ";
    throw FixtureError(fmt::format("fixture `{}` uses itself: {}{}", fixture.name, cycle, here));
  }
  chain.push_back(here);
  FixtureKeyInputs inputs;
  inputs.fixture_source = read_source(fixture.path, "fixture `" + fixture.name + "`");
  const std::vector<fs::path> module_roots = fixture_module_roots(fixture, roots_);
  const ScannedUses uses = scan_fixture_uses(inputs.fixture_source);

  // Helpers, transitively, by module name.
  std::vector<ScannedDependency> pending = uses.modules;
  std::vector<std::string> host_file_sources{inputs.fixture_source};
  std::vector<fs::path> host_file_dirs{fixture.path.parent_path()};
  while (!pending.empty()) {
    const ScannedDependency module = pending.back();
    pending.pop_back();
    if (inputs.helper_sources.count(module.path)) continue;
    try {
      ResolvedModule resolved = resolve_module(module.path, module_roots);
      const ScannedUses nested = scan_fixture_uses(resolved.source);
      pending.insert(pending.end(), nested.modules.begin(), nested.modules.end());
      host_file_sources.push_back(resolved.source);
      host_file_dirs.push_back(resolved.path.parent_path());
      inputs.helper_sources[module.path] = std::move(resolved.source);
    } catch (const ModuleError& error) {
      throw FixtureError(fmt::format("fixture `{}` (line {}): {}", fixture.name, module.line, error.what()));
    }
  }
  for (const ScannedDependency& used : uses.fixtures) {
    const FixtureFile nested = resolve_fixture(used.path, module_roots);
    inputs.nested_fixture_keys.push_back(key_of(nested, chain));
  }
  for (std::size_t i = 0; i < host_file_sources.size(); ++i) {
    for (const ScannedDependency& file : scan_fixture_dependencies(host_file_sources[i])) {
      const fs::path path = fs::path(file.path).is_absolute() ? fs::path(file.path) : host_file_dirs[i] / file.path;
      try {
        inputs.host_files.push_back(describe_host_file(path.lexically_normal().string()));
      } catch (const std::exception& error) {
        throw FixtureError(fmt::format("fixture `{}`: a file it depends on: {}", fixture.name, error.what()));
      }
    }
  }
  for (const auto& [name, profile] : config_.profiles) {
    if (profile.unavailable) continue;
    inputs.profile_images[name] = ProfileImageIds{image_hash(profile.kernel), image_hash(profile.initrd)};
  }
  inputs.agent_protocol_version = wire::agent::PROTOCOL_VERSION;
  inputs.runner_protocol_version = wire::runner::PROTOCOL_VERSION;
  chain.pop_back();
  return fixture_key(inputs);
}

}  // namespace provium
