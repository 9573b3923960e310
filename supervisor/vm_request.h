// VM options as a runner sent them (createVm and boot), checked: the runner is
// untrusted, so every size and count has a cap and every text a charset.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "runner.capnp.h"

namespace provium {

inline constexpr std::size_t kMaxVmNameLength = 64;
inline constexpr std::size_t kMaxGuestFiles = 64;
inline constexpr std::size_t kMaxGuestFileBytes = 16 * 1024 * 1024;
inline constexpr std::size_t kMaxGuestFilesTotalBytes = 32 * 1024 * 1024;
inline constexpr std::size_t kMaxGuestPathLength = 1024;

class VmRequestError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct GuestFile {
  std::string path;  // absolute, normalised
  std::string content;
};

struct VmRequest {
  std::uint64_t memory_bytes = 0;  // 0: the profile's
  std::uint32_t cpus = 0;          // 0: the profile's
  std::string cmdline;             // empty: the profile's
  std::optional<std::uint64_t> rng_seed;
  std::optional<std::int64_t> initial_time_ns;
  std::vector<GuestFile> files;
};

// [A-Za-z0-9_.-], 1..64 characters.
bool valid_vm_name(std::string_view name);

// Throws VmRequestError saying which option is wrong and what is allowed.
VmRequest read_vm_request(wire::runner::VmOptions::Reader options, unsigned host_cpus);

// Boot-time options override creation-time ones; files accumulate.
VmRequest merge_vm_requests(const VmRequest& created, const VmRequest& boot);

}  // namespace provium
