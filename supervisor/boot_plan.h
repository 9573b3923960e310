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
  std::string cmdline;  // final: rdinit= for the overlay and console=ttyS0 appended
  std::uint64_t memory_bytes = 0;
  std::uint32_t cpus = 1;
  std::optional<std::int64_t> initial_time_ns;
  std::vector<GuestFile> files;
};

// Throws VmRequestError when the profile is unavailable or the cmdline
// conflicts (a different rdinit=) or grows too long.
BootPlan make_boot_plan(const std::string& vm_name, const Profile& profile, const VmRequest& request);

}  // namespace provium
