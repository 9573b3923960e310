// Boot options for a VM as test code gives them (creation-time defaults,
// overridden per boot). Unset fields mean "the profile's default".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace provium::runner {

struct GuestFile {
  std::string path;
  std::string content;
};

struct VmSpec {
  std::optional<std::uint64_t> memory_bytes;
  std::optional<std::uint32_t> cpus;
  std::optional<std::string> kernel_cmdline;
  std::optional<std::uint64_t> rng_seed;
  std::optional<std::int64_t> initial_time_ns;
  std::vector<GuestFile> files;
};

// `overrides` wins field by field; its files are added after the base's.
VmSpec merge_vm_specs(const VmSpec& base, const VmSpec& overrides);

// A guest's size: what a profile gives when options leave it unset, or
// what a boot was let take.
struct VmResources {
  std::uint64_t memory_bytes = 0;
  std::uint32_t cpus = 0;
};

// What the supervisor reports about a booted guest.
struct VmInfo {
  std::string accel;
  std::uint32_t cid = 0;       // 0: no vsock
  std::uint64_t memory_bytes = 0;
};

}  // namespace provium::runner
