// provium:claim({memory=, cpus=}): the memory and vCPUs a test file says
// its VMs need at most. The runner refuses a boot that would take the VMs
// running at once past it; an omitted field is not limited.
#pragma once

#include "vm_spec.h"

#include <cstdint>
#include <optional>
#include <string>

namespace provium::runner {

struct ResourceClaim {
  std::optional<std::uint64_t> memory_bytes;
  std::optional<std::uint32_t> cpus;
  std::string site;  // file:line of the provium:claim call
};

// "512 MiB" / "1.5 GiB" / "1 CPU" / "2 CPUs".
std::string describe_memory(std::uint64_t bytes);
std::string describe_cpus(std::uint32_t cpus);
// "memory 512 MiB, cpus 2" (omitted fields left out; "nothing" when empty).
std::string describe(const ResourceClaim& claim);

// Why booting `wanted` next to `in_use` breaks `claim`; nothing when it fits.
std::optional<std::string> claim_refusal(const ResourceClaim& claim, const VmResources& in_use,
                                         const VmResources& wanted);

}  // namespace provium::runner
