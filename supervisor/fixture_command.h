// `provium fixture list|clean`, and the cache upkeep every run starts with.
// Building fixtures comes with snapshots; these need only the cache directory.
#pragma once

#include <ostream>

#include "config.h"
#include "run_options.h"

namespace provium {

int run_fixture_list(const RunOptions& options, std::ostream& out, std::ostream& err);
int run_fixture_clean(const RunOptions& options, std::ostream& out, std::ostream& err);

// Removes what dead builds left and evicts least recently used entries down
// to cache_max_size. Never fails a run: problems are warnings.
void prune_fixture_cache(const Config& config, std::ostream& err);

// "23.45MiB"
std::string format_cache_size(std::uint64_t bytes);

}  // namespace provium
