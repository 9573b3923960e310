// Loading the kernel modules the bundled guest needs (virtio transport, the
// console port that carries the agent channel, net, blk, rng). The guest build
// lists them, dependencies first, in /lib/modules/provium/order.
#pragma once

#include <string>

namespace provium::agent {

inline constexpr const char* kBundledModuleDir = "/lib/modules/provium";

// Loads every module named in `<dir>/order` (one file name per line) with
// finit_module. Already-loaded modules are fine; other failures are logged and
// loading goes on. A missing order file means there is nothing to load.
void load_bundled_modules(const std::string& dir = kBundledModuleDir);

}  // namespace provium::agent
