#include "rpc_vm_backend.h"

#include "rpc_convert.h"
#include "rpc_wait.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace provium::runner {
namespace {

// Bounds `promise` by `deadline` (none: unbounded).
template <typename T>
kj::Promise<T> bounded(kj::Promise<T>&& promise, Deadline deadline, kj::Timer& timer) {
  const auto left = deadline.remaining();
  if (!left) return kj::mv(promise);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(*left).count();
  return timer.timeoutAfter(nanos * kj::NANOSECONDS, kj::mv(promise));
}

kj::AutoCloseFd own_copy(int fd, const char* what = "agent fd") {
  const int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) throw std::runtime_error(std::string("cannot keep the ") + what + ": " + std::strerror(errno));
  return kj::AutoCloseFd(copy);
}

// Our own copy of the descriptor a capability carries (the RPC system closes
// its copy when the capability is released).
template <typename Client>
kj::AutoCloseFd carried_fd(Client&& client, kj::WaitScope& wait_scope, const char* what) {
  kj::Maybe<int> fd = wait_rpc(client.getFd(), wait_scope, what);
  KJ_IF_MAYBE(carried, fd) { return own_copy(*carried, what); }
  throw std::runtime_error(std::string("the supervisor's ") + what + " carries no file descriptor");
}

std::string bytes_of(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

}  // namespace

kj::AutoCloseFd carried_agent_fd(wire::runner::AgentChannel::Client channel, kj::WaitScope& wait_scope) {
  return carried_fd(kj::mv(channel), wait_scope, "agent channel");
}

BootedVm RpcVmBackend::boot(const VmSpec& spec, Deadline deadline) {
  auto request = vm_.bootRequest();
  vm_spec_to_wire(spec, request.initOptions());
  try {
    auto response = bounded<capnp::Response<wire::runner::Vm::BootResults>>(request.send(), deadline, timer_)
                        .wait(wait_scope_);
    auto channel = response.getChannel();
    kj::Maybe<int> fd = bounded(channel.getFd(), deadline, timer_).wait(wait_scope_);
    BootedVm booted;
    KJ_IF_MAYBE(agent_fd, fd) {
      booted.agent_fd = own_copy(*agent_fd);
    } else {
      throw std::runtime_error("the supervisor's agent channel carries no file descriptor");
    }
    booted.info = vm_info_from_wire(response.getInfo());
    return booted;
  } catch (const kj::Exception& error) {
    if (deadline.expired()) throw DeadlineExceeded("boot did not finish before the test's deadline");
    throw std::runtime_error(describe_rpc_failure(error));
  }
}

void RpcVmBackend::shutdown() { wait_rpc(vm_.shutdownRequest().send().ignoreResult(), wait_scope_, "Vm.shutdown"); }

std::string RpcVmBackend::console_tail(std::uint32_t max_bytes) {
  auto request = vm_.consoleTailRequest();
  request.setMaxBytes(max_bytes);
  auto response = wait_rpc(request.send(), wait_scope_, "Vm.consoleTail");
  auto text = response.getText();
  return std::string(reinterpret_cast<const char*>(text.begin()), text.size());
}

std::string RpcVmBackend::console_log() {
  return bytes_of(wait_rpc(vm_.consoleLogRequest().send(), wait_scope_).getText());
}

kj::AutoCloseFd RpcVmBackend::open_console(bool output, bool input) {
  auto request = vm_.openConsoleRequest();
  request.setOutput(output);
  request.setInput(input);
  auto response = wait_rpc(request.send(), wait_scope_);
  return carried_fd(response.getChannel(), wait_scope_, "console channel");
}

void RpcVmBackend::pause() { wait_rpc(vm_.pauseRequest().send().ignoreResult(), wait_scope_); }

void RpcVmBackend::resume() { wait_rpc(vm_.resumeRequest().send().ignoreResult(), wait_scope_); }

kj::AutoCloseFd RpcVmBackend::reset(Deadline deadline) {
  try {
    auto response =
        bounded<capnp::Response<wire::runner::Vm::ResetResults>>(vm_.resetRequest().send(), deadline, timer_)
            .wait(wait_scope_);
    return carried_fd(response.getChannel(), wait_scope_, "agent channel");
  } catch (const kj::Exception& error) {
    if (deadline.expired()) throw DeadlineExceeded("reset did not finish before the test's deadline");
    throw std::runtime_error(describe_rpc_failure(error));
  }
}

SnapshotTaken RpcVmBackend::snapshot(const std::string& path, Deadline deadline) {
  auto request = vm_.snapshotRequest();
  request.setPath(path);
  try {
    auto response =
        bounded<capnp::Response<wire::runner::Vm::SnapshotResults>>(request.send(), deadline, timer_).wait(wait_scope_);
    return SnapshotTaken{.path = response.getPath().cStr(), .size = response.getSize()};
  } catch (const kj::Exception& error) {
    if (deadline.expired()) throw DeadlineExceeded("snapshot did not finish before the test's deadline");
    throw std::runtime_error(describe_rpc_failure(error));
  }
}

RestoredVm RpcVmBackend::restore(const std::string& path, Deadline deadline) {
  auto request = vm_.restoreRequest();
  request.setPath(path);
  try {
    auto response =
        bounded<capnp::Response<wire::runner::Vm::RestoreResults>>(request.send(), deadline, timer_).wait(wait_scope_);
    RestoredVm restored;
    restored.booted.agent_fd = carried_fd(response.getChannel(), wait_scope_, "agent channel");
    restored.booted.info = vm_info_from_wire(response.getInfo());
    const auto entropy = response.getEntropy();
    restored.entropy.assign(reinterpret_cast<const char*>(entropy.begin()), entropy.size());
    restored.host_time_ns = response.getHostTimeNs();
    restored.nic_macs = nic_macs_from_wire(response.getNicMacs());
    return restored;
  } catch (const kj::Exception& error) {
    if (deadline.expired()) throw DeadlineExceeded("restore did not finish before the test's deadline");
    throw std::runtime_error(describe_rpc_failure(error));
  }
}

void RpcVmBackend::power_button(Deadline deadline) {
  try {
    bounded(vm_.powerButtonRequest().send().ignoreResult(), deadline, timer_).wait(wait_scope_);
  } catch (const kj::Exception& error) {
    if (deadline.expired()) throw DeadlineExceeded("the guest did not power off before the test's deadline");
    throw std::runtime_error(describe_rpc_failure(error));
  }
}

HostFileOpened RpcVmBackend::open_host_file(const std::string& host_path, const std::string& relative_to) {
  auto request = vm_.openHostFileRequest();
  request.setHostPath(host_path);
  request.setRelativeTo(relative_to);
  auto response = wait_rpc(request.send(), wait_scope_);
  HostFileOpened opened;
  opened.fd = carried_fd(response.getFile(), wait_scope_, "host file");
  opened.size = response.getSize();
  opened.resolved = std::string(response.getResolved().cStr());
  return opened;
}

}  // namespace provium::runner
