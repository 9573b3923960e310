// What the RPC servers need from the run as a whole; outlives every file.
#pragma once

#include "config.h"
#include "datapath_choice.h"
#include "event_stream.h"
#include "vm_backend.h"

namespace provium {

struct VmServices {
  const Config& config;
  VmBackend& launcher;  // QEMU, or the local backend with --vmm local
  unsigned host_cpus = 1;
  NetDatapath net_datapath = NetDatapath::automatic;  // --net
  EventStream* events = nullptr;  // null: nobody asked for events
};

}  // namespace provium
