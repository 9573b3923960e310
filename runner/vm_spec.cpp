#include "vm_spec.h"

namespace provium::runner {

VmSpec merge_vm_specs(const VmSpec& base, const VmSpec& overrides) {
  VmSpec merged = base;
  if (overrides.memory_bytes) merged.memory_bytes = overrides.memory_bytes;
  if (overrides.cpus) merged.cpus = overrides.cpus;
  if (overrides.kernel_cmdline) merged.kernel_cmdline = overrides.kernel_cmdline;
  if (overrides.rng_seed) merged.rng_seed = overrides.rng_seed;
  if (overrides.initial_time_ns) merged.initial_time_ns = overrides.initial_time_ns;
  merged.files.insert(merged.files.end(), overrides.files.begin(), overrides.files.end());
  return merged;
}

}  // namespace provium::runner
