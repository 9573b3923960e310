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

kj::AutoCloseFd own_copy(int fd) {
  const int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) throw std::runtime_error(std::string("cannot keep the agent fd: ") + std::strerror(errno));
  return kj::AutoCloseFd(copy);
}

}  // namespace

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

}  // namespace provium::runner
