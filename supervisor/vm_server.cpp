#include "vm_server.h"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "kj_error.h"

#include "console_hub.h"

namespace provium {
namespace {

constexpr auto kReadyTimeout = 60 * kj::SECONDS;
constexpr auto kShutdownGrace = 3 * kj::SECONDS;
// How long a guest may take to power off after the power button.
constexpr auto kPowerButtonGrace = 60 * kj::SECONDS;

const char* state_name(VmState state) {
  switch (state) {
    case VmState::created: return "created";
    case VmState::booting: return "booting";
    case VmState::booted: return "booted";
    case VmState::paused: return "paused";
    case VmState::shut_down: return "shut down";
  }
  return "unknown";
}

std::string text_of(capnp::Text::Reader text) { return std::string(text.begin(), text.size()); }

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
    GuestNics nics = provision_nics();
    const std::size_t nics_count = nics.backends.size();
    LaunchedVm launched = services_.launcher.launch_vm(
        slot.name, *profile, merge_vm_requests(slot.created_with, boot_request), std::move(nics));
    vm = launched.vm.get();
    slot.vm = kj::mv(launched.vm);
    slot.state = VmState::booting;
    slot.ram_bytes = launched.memory_bytes;
    slot.cpus = launched.cpus;
    slot.nic_slots = nics_count;
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
            slot_->mark_running(vm->vsock_cid().value_or(0));
            auto results = context.getResults();
            auto info = results.getInfo();
            info.setAccel(services_.launcher.accel_name());
            info.setCid(vm->vsock_cid().value_or(0));
            results.setChannel(kj::heap<AgentChannelServer>(vm->agent_fd_for_runner()));
          },
          [this](kj::Exception&& error) {
            slot_->release();
            kj::throwFatalException(kj::mv(error));
          });
}

kj::Promise<void> VmServer::snapshot(SnapshotContext context) {
  const std::string requested = text_of(context.getParams().getPath());
  if (slot_->state != VmState::booted && slot_->state != VmState::paused) {
    throw_kj_error(fmt::format("snapshot: the VM is {}, it must be booted or paused", state_name(slot_->state)));
  }
  RunningVm& vm = vm_for("snapshot", slot_->state);
  auto pending = [&]() {
    try {
      return kj::heap<PendingSnapshot>(snapshots_.create(requested, slot_->name));
    } catch (const std::exception& error) {
      throw_kj_error(fmt::format("snapshot: {}", error.what()));
    }
  }();
  PendingSnapshot& file = *pending;
  slot_->transitioning = true;
  return vm.snapshot(file.fd())
      .then([this, &file, context]() mutable {
        slot_->transitioning = false;
        SnapshotInfo info{.vm = slot_->name,
                          .profile = slot_->profile,
                          .ram_bytes = slot_->ram_bytes,
                          .cpus = slot_->cpus,
                          .nic_slots = static_cast<std::uint32_t>(slot_->nic_slots),
                          .nic_vm_index = static_cast<std::uint32_t>(slot_->index),
                          .accel = services_.launcher.accel_name(),
                          .taken_at_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count()};
        try {
          finish_snapshot_file(file.fd(), info);
          file.commit();
        } catch (const std::exception& error) {
          throw_kj_error(fmt::format("snapshot: {}", error.what()));
        }
        struct stat st {};
        ::fstat(file.fd(), &st);
        auto results = context.getResults();
        results.setPath(file.path().string());
        results.setSize(static_cast<std::uint64_t>(st.st_size));
      },
      [this](kj::Exception&& error) {
        slot_->transitioning = false;
        throw_kj_error(fmt::format("snapshot: {}", error.getDescription().cStr()));
      })
      .attach(kj::mv(pending));
}

kj::Promise<VmServer::Restored> VmServer::restore_from(const std::filesystem::path& path, OwnedFd ram,
                                                      const SnapshotInfo& info) {
  VmSlot& slot = *slot_;
  if (slot.state != VmState::created && slot.state != VmState::shut_down) {
    throw_kj_error(fmt::format("restore: the VM is {}, it must be created or shut down", state_name(slot.state)));
  }
  const Profile* profile = services_.config.find_profile(slot.profile);
  if (!profile) throw_kj_error(fmt::format("VM `{}`: profile `{}` vanished", slot.name, slot.profile));
  RunningVm* vm = nullptr;
  try {
    if (info.profile != slot.profile) {
      throw std::runtime_error(fmt::format("snapshot {} is of a `{}` VM and this VM's profile is `{}`", path.string(),
                                           info.profile, slot.profile));
    }
    OwnedFd state(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!state.valid() || ::lseek(state.get(), static_cast<off_t>(info.ram_bytes), SEEK_SET) < 0) {
      throw std::runtime_error(fmt::format("snapshot {}: {}", path.string(), std::strerror(errno)));
    }
    GuestNics nics = provision_nics();
    if (nics.backends.size() != info.nic_slots) {
      throw std::runtime_error(fmt::format(
          "snapshot {} was taken of a VM with {} NIC slots and this one would have {}: NIC slots exist only when a "
          "bridge was declared before boot, so declare one (provium:bridge) before restoring",
          path.string(), info.nic_slots, nics.backends.size()));
    }
    LaunchedVm launched = services_.launcher.restore_vm(slot.name, *profile, slot.created_with, std::move(nics),
                                                        SnapshotSource{std::move(ram), std::move(state), info});
    vm = launched.vm.get();
    slot.vm = kj::mv(launched.vm);
    slot.state = VmState::booting;
    slot.ram_bytes = info.ram_bytes;
    slot.cpus = info.cpus;
    slot.nic_slots = info.nic_slots;
  } catch (const std::exception& error) {
    throw_kj_error(fmt::format("restore: VM `{}`: {}", slot.name, error.what()));
  }
  const std::uint64_t memory = info.ram_bytes;
  std::vector<std::array<std::uint8_t, 6>> nic_macs;
  if (info.nic_vm_index != 0) {
    for (std::uint32_t i = 0; i < info.nic_slots; ++i) nic_macs.push_back(TestNetwork::mac_of(info.nic_vm_index, i));
  }
  return vm->wait_ready(kReadyTimeout)
      .then(
          [this, memory, nic_macs = std::move(nic_macs)]() {
            RunningVm* vm = nullptr;
            KJ_IF_MAYBE(booted, slot_->vm) { vm = booted->get(); }
            if (!vm) throw_kj_error(fmt::format("VM `{}` was shut down while restoring", slot_->name));
            slot_->state = VmState::booted;
            slot_->mark_running(vm->vsock_cid().value_or(0));
            Restored restored;
            restored.agent = vm->agent_fd_for_runner();
            restored.memory_bytes = memory;
            restored.accel = services_.launcher.accel_name();
            restored.cid = vm->vsock_cid().value_or(0);
            restored.nic_macs = nic_macs;
            if (::getrandom(restored.entropy.data(), restored.entropy.size(), 0) !=
                static_cast<ssize_t>(restored.entropy.size())) {
              throw_kj_error(fmt::format("restore: getrandom: {}", std::strerror(errno)));
            }
            restored.host_time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();
            return restored;
          },
          [this](kj::Exception&& error) -> Restored {
            slot_->release();
            throw_kj_error(fmt::format("restore: {}", error.getDescription().cStr()));
          });
}

kj::Promise<void> VmServer::restore(RestoreContext context) {
  const std::string requested = text_of(context.getParams().getPath());
  std::filesystem::path path;
  OwnedFd ram;
  SnapshotInfo info;
  try {
    ram = snapshots_.open_existing(requested, &path);
    info = read_snapshot_file(ram.get(), path.string());
  } catch (const std::exception& error) {
    throw_kj_error(fmt::format("restore: VM `{}`: {}", slot_->name, error.what()));
  }
  return restore_from(path, std::move(ram), info).then([context](Restored restored) mutable {
    fill_restore_results(restored, context.getResults());
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

namespace {

capnp::Data::Reader as_data(const std::string& bytes) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size());
}

}  // namespace

kj::Promise<void> VmServer::consoleLog(ConsoleLogContext context) {
  std::string text;
  KJ_IF_MAYBE(vm, slot_->vm) { text = (*vm)->console().log().text(); }
  context.getResults().setText(as_data(text));
  return kj::READY_NOW;
}

kj::Promise<void> VmServer::openConsole(OpenConsoleContext context) {
  const auto params = context.getParams();
  RunningVm* vm = nullptr;
  KJ_IF_MAYBE(running, slot_->vm) { vm = running->get(); }
  if (vm == nullptr) {
    throw_kj_error(fmt::format("console: the VM is {}, it has no console", state_name(slot_->state)));
  }
  try {
    kj::AutoCloseFd fd = vm->console().open_channel(params.getOutput(), params.getInput());
    context.getResults().setChannel(kj::heap<ConsoleChannelServer>(kj::mv(fd)));
  } catch (const std::exception& error) {
    throw_kj_error(fmt::format("console: {}", error.what()));
  }
  return kj::READY_NOW;
}

GuestNics VmServer::provision_nics() {
  slot_->without_nics = !services_.launcher.has_nic_slots();
  return slot_->without_nics ? GuestNics{} : network_.provision(*slot_);
}

RunningVm& VmServer::vm_for(const char* verb, VmState wanted) {
  VmSlot& slot = *slot_;
  if (slot.transitioning) {
    throw_kj_error(fmt::format("{}: another lifecycle operation is under way", verb));
  }
  RunningVm* vm = nullptr;
  KJ_IF_MAYBE(running, slot.vm) { vm = running->get(); }
  if (slot.state != wanted || vm == nullptr) {
    throw_kj_error(fmt::format("{}: the VM is {}, it must be {}", verb, state_name(slot.state), state_name(wanted)));
  }
  return *vm;
}

kj::Promise<void> VmServer::transition(const char* verb, VmState from, VmState after,
                                       kj::Function<kj::Promise<void>(RunningVm&)> step) {
  RunningVm& vm = vm_for(verb, from);
  slot_->transitioning = true;
  return kj::evalNow([&]() { return step(vm); })
      .then(
          [this, after]() {
            slot_->transitioning = false;
            if (slot_->state != VmState::shut_down) slot_->state = after;
          },
          [this, verb](kj::Exception&& error) {
            slot_->transitioning = false;
            throw_kj_error(fmt::format("{}: {}", verb, error.getDescription().cStr()));
          });
}

kj::Promise<void> VmServer::pause(PauseContext) {
  return transition("pause", VmState::booted, VmState::paused, [](RunningVm& vm) { return vm.pause(); });
}

kj::Promise<void> VmServer::resume(ResumeContext) {
  return transition("resume", VmState::paused, VmState::booted, [](RunningVm& vm) { return vm.resume(); });
}

kj::Promise<void> VmServer::reset(ResetContext context) {
  return transition("reset", VmState::booted, VmState::booted, [](RunningVm& vm) { return vm.reset(); })
      .then([this, context]() mutable {
        RunningVm* vm = nullptr;
        KJ_IF_MAYBE(running, slot_->vm) { vm = running->get(); }
        if (!vm) throw_kj_error("reset: the VM was shut down meanwhile");
        context.getResults().setChannel(kj::heap<AgentChannelServer>(vm->agent_fd_for_runner()));
      });
}

kj::Promise<void> VmServer::powerButton(PowerButtonContext) {
  // A guest that ignores the button is killed by power_button; the slot then
  // holds a dead VM until the runner shuts it down, as after any guest death.
  return transition("power_button", VmState::booted, VmState::shut_down,
                    [](RunningVm& vm) { return vm.power_button(kPowerButtonGrace); })
      .then([this]() { slot_->release(); });
}

kj::Promise<void> VmServer::openHostFile(OpenHostFileContext context) {
  const auto params = context.getParams();
  try {
    OpenedHostFile opened =
        open_host_file(text_of(params.getHostPath()), text_of(params.getRelativeTo()), host_files_);
    auto results = context.getResults();
    results.setSize(opened.size);
    results.setResolved(opened.resolved.string());
    results.setFile(kj::heap<HostFileServer>(kj::mv(opened.fd)));
  } catch (const HostFileError& error) {
    throw_kj_error(fmt::format("push_file: {}", error.what()));
  }
  return kj::READY_NOW;
}

}  // namespace provium
