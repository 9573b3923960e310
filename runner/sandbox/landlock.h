// Landlock: a second wall behind seccomp. An empty ruleset that handles every
// filesystem (and, where supported, network and scope) right denies them all.
#pragma once

#include <string>

namespace provium::runner::sandbox {

struct LandlockResult {
  bool applied = false;
  int abi = 0;          // kernel's Landlock ABI version, 0 when unsupported
  std::string note;     // why it was skipped, for the runner's log
};

// Requires no_new_privs. Returns applied=false with a note when the kernel
// lacks Landlock; throws std::runtime_error when it exists but fails.
LandlockResult restrict_with_landlock();

}  // namespace provium::runner::sandbox
