#include "bundled_guest.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace provium {

std::optional<BundledGuest> load_bundled_guest(const Located& dir) {
  if (!dir.path) return std::nullopt;
  BundledGuest guest;
  guest.dir = *dir.path;
  guest.kernel = guest.dir / "vmlinux";
  guest.initrd = guest.dir / "initramfs.cpio";
  guest.agent_overlay = guest.dir / "agent-overlay.cpio";
  std::ifstream in(guest.dir / "cmdline");
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) throw std::runtime_error(fmt::format("cannot read {}", (guest.dir / "cmdline").string()));
  guest.cmdline = text.str();
  const auto first = guest.cmdline.find_first_not_of(" \t\r\n");
  const auto last = guest.cmdline.find_last_not_of(" \t\r\n");
  guest.cmdline = first == std::string::npos ? "" : guest.cmdline.substr(first, last - first + 1);
  return guest;
}

void add_builtin_default_profile(Config& config, const std::optional<BundledGuest>& guest, const Located& dir) {
  if (config.profiles.count("default")) return;
  Profile profile;
  profile.name = "default";
  profile.inject_agent = false;  // the bundled initramfs already runs the agent as /init
  if (guest) {
    profile.kernel = guest->kernel;
    profile.initrd = guest->initrd;
    profile.cmdline = guest->cmdline;
  } else {
    profile.unavailable = fmt::format(
        "the built-in `default` profile needs the bundled guest, which was not found (searched: {}); build it with "
        "guest/build-default-guest.sh, set PROVIUM_GUEST_DIR, or define [profiles.default] in provium.toml",
        dir.searched_list());
  }
  config.profiles.emplace("default", std::move(profile));
}

}  // namespace provium
