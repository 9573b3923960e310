#include "local_vm.h"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>

#include <fmt/format.h>

#include "kj_error.h"

namespace provium {

LocalVm::LocalVm(kj::AsyncIoContext& io, const std::string& name, const LocalSandboxSpec& spec)
    : LocalVm(io, name, spawn_in_local_sandbox(spec)) {}

LocalVm::LocalVm(kj::AsyncIoContext& io, const std::string& name, SpawnedSandbox spawned)
    : io_(io),
      name_(name),
      agent_fd_(kj::mv(spawned.channel)),
      process_(std::move(spawned.process)),
      output_stream_(io.lowLevelProvider->wrapInputFd(kj::mv(spawned.output))),
      output_(*io.lowLevelProvider, *output_stream_, nullptr),
      exit_watcher_(io.unixEventPort, process_),
      exited_(exit_watcher_.exited().then([this](ExitStatus status) { exit_status_ = status; }).fork()),
      output_drain_(output_.pump().eagerlyEvaluate(nullptr)) {}

kj::AutoCloseFd LocalVm::agent_fd_for_runner() {
  const int copy = ::fcntl(agent_fd_.get(), F_DUPFD_CLOEXEC, 3);
  if (copy < 0) throw_kj_error(fmt::format("VM `{}`: cannot copy the agent channel: {}", name_, std::strerror(errno)));
  return kj::AutoCloseFd(copy);
}

kj::Promise<void> LocalVm::not_supported() const {
  // The Vm server prefixes the verb.
  const std::string message =
      "not supported under --vmm local (the agent runs in a sandbox on this host, not in a virtual machine)";
  return kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__, kj::heapString(message.c_str()));
}

kj::Promise<void> LocalVm::wait_ready(kj::Duration) {
  if (running()) return kj::READY_NOW;
  // It died between exec and now: give its last words a moment to arrive.
  auto settled = output_drain_.then([]() {}).exclusiveJoin(io_.provider->getTimer().afterDelay(kj::SECONDS));
  output_drain_ = kj::READY_NOW;
  return canceler_.wrap(settled.then([this]() -> kj::Promise<void> {
    std::string details = fmt::format("VM `{}`: the local agent exited during startup", name_);
    if (const auto status = process_.poll()) details += fmt::format(" ({})", status->describe());
    const std::string said = output_.log().last_lines(20);
    if (!said.empty()) details += "\nthe agent said:\n" + said;
    throw_kj_error(details);
  }));
}

namespace {

// How long kill() waits for the monitor to take the sandbox down by itself.
constexpr int kKillWaitMs = 2000;

}  // namespace

void LocalVm::ask_monitor_to_stop() {
  // To the monitor only (not its process group): it SIGKILLs PID 1 and exits
  // once the whole PID namespace is gone.
  ::syscall(SYS_pidfd_send_signal, process_.pidfd(), SIGTERM, nullptr, 0);
}

kj::Promise<void> LocalVm::shutdown(kj::Duration grace) {
  if (!running()) return kj::READY_NOW;
  ask_monitor_to_stop();
  auto deadline = io_.provider->getTimer().afterDelay(grace);
  return canceler_.wrap(exited_.addBranch().exclusiveJoin(kj::mv(deadline)).then([this]() { kill(); }));
}

void LocalVm::kill() {
  if (!process_.running()) return;
  // Let the monitor reap the sandbox, so that nothing of it is left (not even
  // a zombie for init) when we return; SIGKILL to its process group if it
  // takes too long.
  if (!process_.poll()) {
    ask_monitor_to_stop();
    pollfd exited{process_.pidfd(), POLLIN, 0};
    while (::poll(&exited, 1, kKillWaitMs) < 0 && errno == EINTR) {
    }
  }
  exit_status_ = process_.kill_and_wait();
}

}  // namespace provium
