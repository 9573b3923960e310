#include "fixture_command.h"

#include <fmt/format.h>

#include "config_loader.h"
#include "exit_codes.h"
#include "fixture_cache.h"

namespace provium {
namespace {

std::optional<Config> config_or_report(const RunOptions& options, std::ostream& err) {
  try {
    return load_config(options.config_path, options.config_path_explicit);
  } catch (const ConfigError& error) {
    err << "provium: " << error.what() << "\n";
    return std::nullopt;
  }
}

}  // namespace

std::string format_cache_size(std::uint64_t bytes) {
  return fmt::format("{:.2f}MiB", static_cast<double>(bytes) / static_cast<double>(kMiB));
}

int run_fixture_list(const RunOptions& options, std::ostream& out, std::ostream& err) {
  const auto config = config_or_report(options, err);
  if (!config) return kExitInternalError;
  const FixtureCache cache(config->cache_dir);
  const auto entries = cache.entries();
  std::uint64_t total = 0;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {  // most recently used first
    out << fmt::format("{:>12}  {:<3}  {}\n", format_cache_size(it->disk_bytes), fixture_kind_name(it->kind), it->key);
    total += it->disk_bytes;
  }
  if (!entries.empty()) out << "\n";
  out << fmt::format("{} {}, {} in {}\n", entries.size(), entries.size() == 1 ? "entry" : "entries",
                     format_cache_size(total), config->cache_dir.string());
  return kExitOk;
}

int run_fixture_clean(const RunOptions& options, std::ostream& out, std::ostream& err) {
  const auto config = config_or_report(options, err);
  if (!config) return kExitInternalError;
  const FixtureCache cache(config->cache_dir);
  const std::size_t count = cache.entries().size();
  try {
    cache.clean();
  } catch (const std::exception& error) {
    err << "provium: fixture clean: " << error.what() << "\n";
    return kExitInternalError;
  }
  out << fmt::format("removed {} {} from {}\n", count, count == 1 ? "entry" : "entries", config->cache_dir.string());
  return kExitOk;
}

void prune_fixture_cache(const Config& config, std::ostream& err) {
  try {
    const FixtureCache cache(config.cache_dir);
    cache.remove_abandoned_staging();
    const auto evicted = cache.evict_to(config.cache_max_size);
    if (evicted.empty()) return;
    std::uint64_t freed = 0;
    for (const FixtureEntry& entry : evicted) freed += entry.disk_bytes;
    err << fmt::format("provium: fixture cache: evicted {} least recently used {} ({}) to stay under cache_max_size\n",
                       evicted.size(), evicted.size() == 1 ? "entry" : "entries", format_cache_size(freed));
  } catch (const std::exception& error) {
    err << "provium: warning: fixture cache " << config.cache_dir.string() << ": " << error.what() << "\n";
  }
}

}  // namespace provium
