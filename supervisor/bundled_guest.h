// The guest shipped with Provium (guest/build-default-guest.sh): a PVH-bootable
// vmlinux, an initramfs whose /init is the agent, its kernel cmdline, and the
// agent overlay cpio for users' own initrds.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "config.h"
#include "install_layout.h"

namespace provium {

struct BundledGuest {
  std::filesystem::path dir;
  std::filesystem::path kernel;         // vmlinux
  std::filesystem::path initrd;         // initramfs.cpio
  std::filesystem::path agent_overlay;  // agent-overlay.cpio (may be absent)
  std::string cmdline;                  // contents of `cmdline`, trimmed
};

// Reads the guest directory found by find_bundled_guest_dir(); nullopt when
// there is none. Throws std::runtime_error if its cmdline file is unreadable.
std::optional<BundledGuest> load_bundled_guest(const Located& dir);

// Adds the built-in `default` profile unless the config defines one. Without a
// bundled guest the profile is still listed but marked unavailable.
void add_builtin_default_profile(Config& config, const std::optional<BundledGuest>& guest, const Located& dir);

}  // namespace provium
