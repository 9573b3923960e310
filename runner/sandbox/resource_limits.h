// Hard resource limits for the runner process.
#pragma once

#include <sys/resource.h>

#include <span>

namespace provium::runner::sandbox {

struct ResourceLimit {
  int resource;       // RLIMIT_*
  const char* name;
  rlim_t value;       // applied as both soft and hard limit
};

// The runner's limits: no core dumps, no file writes, few fds, and a bounded
// address space (skipped under AddressSanitizer, which reserves terabytes).
std::span<const ResourceLimit> runner_resource_limits();

// Applies `limits`; throws std::runtime_error naming the limit that failed.
void apply_resource_limits(std::span<const ResourceLimit> limits);

}  // namespace provium::runner::sandbox
