#include "boot_plan.h"

#include <fmt/format.h>

#include "kernel_cmdline.h"

namespace provium {

BootPlan make_boot_plan(const std::string& vm_name, const Profile& profile, const VmRequest& request) {
  if (profile.unavailable) throw VmRequestError(*profile.unavailable);
  BootPlan plan;
  plan.vm_name = vm_name;
  plan.kernel = profile.kernel;
  plan.initrd = profile.initrd;
  plan.inject_agent = profile.inject_agent;
  plan.agent_overlay = profile.agent_overlay;
  plan.memory_bytes = request.memory_bytes ? request.memory_bytes : profile.memory_bytes;
  plan.cpus = request.cpus ? request.cpus : profile.cpus;
  plan.rng_seed = request.rng_seed;
  plan.initial_time_ns = request.initial_time_ns;
  plan.files = request.files;
  std::string cmdline = request.cmdline.empty() ? profile.cmdline : request.cmdline;
  try {
    if (profile.inject_agent) cmdline = with_agent_rdinit(cmdline);
  } catch (const std::invalid_argument& error) {
    throw VmRequestError(fmt::format("profile `{}`: {}", profile.name, error.what()));
  }
  cmdline = with_serial_console(cmdline);
  if (plan.rng_seed) cmdline = with_seeded_rng(cmdline);
  if (plan.initial_time_ns) cmdline = with_initial_time(cmdline, *plan.initial_time_ns);
  plan.cmdline = cmdline;
  if (plan.cmdline.size() > kMaxKernelCmdline) {
    throw VmRequestError(fmt::format("the kernel cmdline is {} bytes after Provium's additions; the limit is {}",
                                     plan.cmdline.size(), kMaxKernelCmdline));
  }
  return plan;
}

}  // namespace provium
