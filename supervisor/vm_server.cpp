#include "vm_server.h"

#include <fmt/format.h>

#include "kj_error.h"

namespace provium {
namespace {

constexpr auto kReadyTimeout = 60 * kj::SECONDS;
constexpr auto kShutdownGrace = 3 * kj::SECONDS;

const char* state_name(VmState state) {
  switch (state) {
    case VmState::created: return "created";
    case VmState::booting: return "booting";
    case VmState::booted: return "booted";
    case VmState::shut_down: return "shut down";
  }
  return "unknown";
}

}  // namespace

kj::Promise<void> VmServer::boot(BootContext context) {
  VmSlot& slot = *slot_;
  if (slot.state != VmState::created) {
    throw_kj_error(fmt::format("VM `{}` cannot boot: it is {}", slot.name, state_name(slot.state)));
  }
  const Profile* profile = services_.config.find_profile(slot.profile);
  if (!profile) throw_kj_error(fmt::format("VM `{}`: profile `{}` vanished", slot.name, slot.profile));
  RunningVm* vm = nullptr;  // owned by the slot; only used before we return
  try {
    const VmRequest boot_request = read_vm_request(context.getParams().getOptions(), services_.host_cpus);
    LaunchedVm launched =
        services_.launcher.launch_vm(slot.name, *profile, merge_vm_requests(slot.created_with, boot_request));
    vm = launched.vm.get();
    slot.vm = kj::mv(launched.vm);
    slot.state = VmState::booting;
    context.getResults().initInfo().setMemoryBytes(launched.memory_bytes);
  } catch (const std::exception& error) {
    throw_kj_error(fmt::format("VM `{}`: {}", slot.name, error.what()));
  }
  return vm->wait_ready(kReadyTimeout)
      .then(
          [this, context]() mutable {
            // Look the VM up again: a shutdown() may have released it meanwhile.
            RunningVm* vm = nullptr;
            KJ_IF_MAYBE(booted, slot_->vm) { vm = booted->get(); }
            if (!vm) throw_kj_error(fmt::format("VM `{}` was shut down while booting", slot_->name));
            slot_->state = VmState::booted;
            auto results = context.getResults();
            auto info = results.getInfo();
            info.setAccel(services_.launcher.accel_name());
            info.setCid(vm->vsock_cid().value_or(0));
            results.setChannel(kj::heap<AgentChannelServer>(vm->take_agent_fd()));
          },
          [this](kj::Exception&& error) {
            slot_->release();
            kj::throwFatalException(kj::mv(error));
          });
}

kj::Promise<void> VmServer::shutdown(ShutdownContext) {
  KJ_IF_MAYBE(vm, slot_->vm) {
    return (*vm)->shutdown(kShutdownGrace).then([this]() { slot_->release(); }, [this](kj::Exception&&) {
      slot_->release();  // already torn down by someone else: the VM is gone either way
    });
  }
  slot_->release();
  return kj::READY_NOW;
}

kj::Promise<void> VmServer::consoleTail(ConsoleTailContext context) {
  const std::uint32_t wanted = std::min(context.getParams().getMaxBytes(), kMaxConsoleTail);
  std::string text;
  KJ_IF_MAYBE(vm, slot_->vm) { text = (*vm)->console_tail(wanted); }
  context.getResults().setText(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(text.data()), text.size()));
  return kj::READY_NOW;
}

}  // namespace provium
