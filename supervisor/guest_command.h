// `provium guest`: prints the bundled default guest as a provium.toml profile
// snippet, so users can copy it and adjust it.
#pragma once

#include <ostream>

#include "bundled_guest.h"

namespace provium {

// The snippet for `guest` found in `dir`.
std::string render_guest_snippet(const BundledGuest& guest);

// Prints the snippet (exit 0) or says where we looked (exit 2).
int run_guest_command(std::ostream& out, std::ostream& err);

}  // namespace provium
