// What the RPC servers need from the run as a whole; outlives every file.
#pragma once

#include "config.h"
#include "vm_launcher.h"

namespace provium {

struct VmServices {
  const Config& config;
  VmLauncher& launcher;
  unsigned host_cpus = 1;
};

}  // namespace provium
