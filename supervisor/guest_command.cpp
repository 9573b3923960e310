#include "guest_command.h"

#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "exit_codes.h"
#include "install_layout.h"

namespace provium {

std::string render_guest_snippet(const BundledGuest& guest) {
  // The bundled initramfs runs the agent as /init, so it must not get the overlay.
  toml::table profile{{"kernel", guest.kernel.string()},
                      {"initrd", guest.initrd.string()},
                      {"cmdline", guest.cmdline},
                      {"inject_agent", false}};
  toml::table root{{"profiles", toml::table{{"default", std::move(profile)}}}};
  std::ostringstream out;
  out << fmt::format("# Provium's bundled guest (from {}).\n", guest.dir.string())
      << "# Paste into provium.toml and adjust; a [profiles.default] there replaces the built-in one.\n"
      << root << "\n";
  return out.str();
}

int run_guest_command(std::ostream& out, std::ostream& err) {
  const Located dir = find_bundled_guest_dir(executable_dir());
  try {
    const auto guest = load_bundled_guest(dir);
    if (!guest) {
      err << fmt::format(
          "provium: the bundled guest was not found (searched: {}).\n"
          "Build it with guest/build-default-guest.sh or point PROVIUM_GUEST_DIR at it.\n",
          dir.searched_list());
      return kExitInternalError;
    }
    out << render_guest_snippet(*guest);
    return kExitAllPassed;
  } catch (const std::exception& error) {
    err << "provium: " << error.what() << "\n";
    return kExitInternalError;
  }
}

}  // namespace provium
