// Drops every Linux capability the process holds or could regain.
#pragma once

namespace provium::runner::sandbox {

// Clears the bounding set (PR_CAPBSET_DROP for every capability the kernel
// knows), the ambient set, and the effective/permitted/inheritable sets, then
// verifies the result. Throws std::runtime_error naming what could not be
// dropped: a runner that keeps a capability must not start.
void drop_all_capabilities();

}  // namespace provium::runner::sandbox
