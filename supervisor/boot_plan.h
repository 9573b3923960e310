// Everything one boot needs, decided from the profile and the runner's
// (checked) options: which kernel and initrd, the final cmdline, the sizes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "vm_request.h"

namespace provium {

struct BootPlan {
  std::string vm_name;
  std::filesystem::path kernel;
  std::filesystem::path initrd;
  bool inject_agent = false;
  std::optional<std::filesystem::path> agent_overlay;  // the profile's agent_overlay_path
  // Final: rdinit= for the overlay, console=ttyS0, and the words for rng_seed
  // and initial_time (see kernel_cmdline.h) appended.
  std::string cmdline;
  std::uint64_t memory_bytes = 0;
  std::uint32_t cpus = 1;
  std::optional<std::uint64_t> rng_seed;        // feed virtio-rng from SeededRng(seed)
  std::optional<std::int64_t> initial_time_ns;  // also on the cmdline, for the agent
  std::vector<GuestFile> files;
};

// Throws VmRequestError when the profile is unavailable or the cmdline
// conflicts (a different rdinit=) or grows too long.
BootPlan make_boot_plan(const std::string& vm_name, const Profile& profile, const VmRequest& request);

}  // namespace provium
