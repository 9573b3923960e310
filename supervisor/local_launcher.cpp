#include "local_launcher.h"

#include <stdexcept>

#include <fmt/format.h>

#include "local_vm.h"

namespace provium {

void check_local_request(const VmRequest& request) {
  if (!request.cmdline.empty()) {
    throw VmRequestError("kernel_cmdline: --vmm local boots no kernel, so there is no command line to set");
  }
  if (request.rng_seed) {
    throw VmRequestError("rng_seed: --vmm local has no virtio-rng to seed (the agent reads the host's kernel RNG)");
  }
  if (request.initial_time_ns) {
    throw VmRequestError("initial_time: --vmm local cannot set the clock (the agent shares the host's)");
  }
}

LaunchedVm LocalVmLauncher::launch_vm(const std::string& name, const Profile& profile, const VmRequest& request,
                                      GuestNics) {
  check_local_request(request);
  const std::uint64_t memory = request.memory_bytes ? request.memory_bytes : profile.memory_bytes;
  try {
    const LocalSandboxSpec spec =
        local_agent_spec(name, memory, settings_.identity, settings_.agent_binary, request.files);
    return LaunchedVm{kj::heap<LocalVm>(io_, name, spec), memory};
  } catch (const std::exception& error) {
    throw std::runtime_error(fmt::format("cannot start the local agent: {}", error.what()));
  }
}

}  // namespace provium
