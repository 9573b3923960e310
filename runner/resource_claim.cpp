#include "resource_claim.h"

#include <cstdio>

namespace provium::runner {

std::string describe_memory(std::uint64_t bytes) {
  constexpr std::uint64_t kMiB = 1024 * 1024;
  constexpr std::uint64_t kGiB = 1024 * kMiB;
  char text[64];
  if (bytes >= kGiB && bytes % (kGiB / 10) == 0) {
    std::snprintf(text, sizeof text, "%g GiB", static_cast<double>(bytes) / static_cast<double>(kGiB));
  } else if (bytes >= kMiB && bytes % kMiB == 0) {
    std::snprintf(text, sizeof text, "%llu MiB", static_cast<unsigned long long>(bytes / kMiB));
  } else {
    std::snprintf(text, sizeof text, "%llu bytes", static_cast<unsigned long long>(bytes));
  }
  return text;
}

std::string describe_cpus(std::uint32_t cpus) { return std::to_string(cpus) + (cpus == 1 ? " CPU" : " CPUs"); }

std::string describe(const ResourceClaim& claim) {
  std::string text;
  if (claim.memory_bytes) text = "memory " + describe_memory(*claim.memory_bytes);
  if (claim.cpus) text += (text.empty() ? "" : ", ") + std::string("cpus ") + std::to_string(*claim.cpus);
  return text.empty() ? "nothing" : text;
}

std::optional<std::string> claim_refusal(const ResourceClaim& claim, const VmResources& in_use,
                                         const VmResources& wanted) {
  std::string over;
  if (claim.memory_bytes && in_use.memory_bytes + wanted.memory_bytes > *claim.memory_bytes) {
    over = "memory: it needs " + describe_memory(wanted.memory_bytes) + ", running VMs hold " +
           describe_memory(in_use.memory_bytes) + ", the claim allows " + describe_memory(*claim.memory_bytes);
  }
  if (claim.cpus && in_use.cpus + wanted.cpus > *claim.cpus) {
    if (!over.empty()) over += "; ";
    over += "cpus: it needs " + describe_cpus(wanted.cpus) + ", running VMs hold " + describe_cpus(in_use.cpus) +
            ", the claim allows " + describe_cpus(*claim.cpus);
  }
  if (over.empty()) return std::nullopt;
  return "it would exceed the file's claim (provium:claim at " + claim.site + ": " + describe(claim) + "): " + over;
}

}  // namespace provium::runner
