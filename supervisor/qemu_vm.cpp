#include "qemu_vm.h"

#include <csignal>

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include "kj_error.h"

namespace provium {

QemuVm::QemuVm(kj::AsyncIoContext& io, const std::string& name, QemuSpawnRequest request)
    : QemuVm(io, name, spawn_qemu(kj::mv(request))) {}

QemuVm::QemuVm(kj::AsyncIoContext& io, const std::string& name, SpawnedQemu spawned)
    : io_(io),
      name_(name),
      vsock_cid_(spawned.vsock_cid),
      agent_fd_(kj::mv(spawned.agent)),
      process_(std::move(spawned.process)),
      console_stream_(io.lowLevelProvider->wrapSocketFd(kj::mv(spawned.console))),
      console_(*io.lowLevelProvider, *console_stream_, console_stream_.get()),
      stderr_stream_(io.lowLevelProvider->wrapInputFd(kj::mv(spawned.qemu_stderr))),
      qmp_(io.lowLevelProvider->wrapSocketFd(kj::mv(spawned.qmp))),
      exit_watcher_(io.unixEventPort, process_),
      exited_(exit_watcher_.exited().then([this](ExitStatus status) { exit_status_ = status; }).fork()),
      stderr_drained_(drain_into(*stderr_stream_, qemu_stderr_).fork()),
      console_drain_(console_.pump().eagerlyEvaluate(nullptr)) {}

std::string QemuVm::failure_details(const std::string& what) {
  std::string details = fmt::format("VM `{}`: {}", name_, what);
  if (exit_status_) details += fmt::format(" (QEMU {})", exit_status_->describe());
  const std::string stderr_text = qemu_stderr_.last_lines(20);
  if (!stderr_text.empty()) details += "\nQEMU said:\n" + stderr_text;
  const std::string console = console_.log().last_lines(20);
  if (!console.empty()) details += "\nlast console output:\n" + console;
  return details;
}

kj::Promise<void> QemuVm::fail_startup(kj::Exception&& reason) {
  // Let QEMU finish dying and its stderr drain, so the error says why.
  auto settled = exited_.addBranch()
                     .then([this]() { return stderr_drained_.addBranch(); })
                     .exclusiveJoin(io_.provider->getTimer().afterDelay(2 * kj::SECONDS));
  return settled.then([this, reason = kj::mv(reason)]() -> kj::Promise<void> {
    // Once QEMU is gone, its exit and stderr say more than our read error.
    const std::string what = exit_status_ ? "QEMU exited during startup" : reason.getDescription().cStr();
    kill();
    throw_kj_error(failure_details(what));
  });
}

kj::Promise<void> QemuVm::wait_ready(kj::Duration timeout) {
  auto ready = qmp_.handshake()
                   .then([this]() { return qmp_.execute("query-status"); })
                   .then([this](nlohmann::json status) {
                     if (status.value("status", std::string()) != "running") {
                       throw_kj_error("QEMU is not running the guest: " + status.dump());
                     }
                     qmp_ready_ = true;
                   });
  auto died = exited_.addBranch().then([]() -> kj::Promise<void> {
    throw_kj_error("QEMU exited during startup");
  });
  auto timed_out = io_.provider->getTimer().afterDelay(timeout).then([]() -> kj::Promise<void> {
    throw_kj_error("QEMU did not answer on QMP in time");
  });
  return canceler_.wrap(ready.exclusiveJoin(kj::mv(died))
                            .exclusiveJoin(kj::mv(timed_out))
                            .catch_([this](kj::Exception&& error) { return fail_startup(kj::mv(error)); }));
}

kj::Promise<void> QemuVm::shutdown(kj::Duration grace) {
  if (!running()) return kj::READY_NOW;
  kj::Promise<void> asked = kj::READY_NOW;
  if (qmp_ready_) {
    asked = qmp_.send("quit").catch_([this](kj::Exception&&) { process_.signal(SIGTERM); });
  } else {
    process_.signal(SIGTERM);
  }
  auto gone = asked.then([this]() { return exited_.addBranch(); });
  auto deadline = io_.provider->getTimer().afterDelay(grace);
  return canceler_.wrap(gone.exclusiveJoin(kj::mv(deadline)).then([this]() { kill(); }));
}

void QemuVm::kill() {
  if (process_.running()) exit_status_ = process_.kill_and_wait();
}

kj::AutoCloseFd QemuVm::agent_fd_for_runner() {
  const int copy = ::fcntl(agent_fd_.get(), F_DUPFD_CLOEXEC, 3);
  if (copy < 0) throw_kj_error(fmt::format("VM `{}`: cannot copy the agent channel: {}", name_, std::strerror(errno)));
  return kj::AutoCloseFd(copy);
}

kj::Promise<void> QemuVm::qmp_command(const std::string& command, const nlohmann::json& arguments) {
  if (!qmp_ready_ || !running()) throw_kj_error("QEMU is not running");
  return canceler_.wrap(qmp_.execute(command, arguments).ignoreResult());
}

kj::Promise<void> QemuVm::pause() { return qmp_command("stop"); }

kj::Promise<void> QemuVm::resume() { return qmp_command("cont"); }

kj::Promise<void> QemuVm::set_link(std::size_t slot, bool up) {
  return qmp_command("set_link", {{"name", fmt::format("nic{}", slot)}, {"up", up}});
}

void QemuVm::discard_agent_leftovers() {
  char buffer[16 * 1024];
  for (;;) {
    const ssize_t got = ::recv(agent_fd_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (got > 0) continue;
    if (got < 0 && errno == EINTR) continue;
    return;  // EAGAIN: nothing left; 0 or an error: the runner will find out
  }
}

kj::Promise<void> QemuVm::reset() {
  // -no-reboot turns every reset into an exit; allow this one. The action is
  // read when the reset is requested, so it can be restored at once. The
  // vCPUs stay stopped until the old agent's last frames are drained, so the
  // runner's new connection starts clean.
  return qmp_command("stop")
      .then([this]() { return qmp_command("set-action", {{"reboot", "reset"}}); })
      .then([this]() { return qmp_command("system_reset"); })
      .then([this]() { return qmp_command("set-action", {{"reboot", "shutdown"}}); })
      .then([this]() {
        discard_agent_leftovers();
        return qmp_command("cont");
      });
}

kj::Promise<void> QemuVm::power_button(kj::Duration grace) {
  return qmp_command("system_powerdown").then([this, grace]() {
    auto off = exited_.addBranch().then([]() { return true; });
    auto late = io_.provider->getTimer().afterDelay(grace).then([]() { return false; });
    return canceler_.wrap(off.exclusiveJoin(kj::mv(late))).then([this, grace](bool powered_off) {
      kill();
      if (!powered_off) {
        throw_kj_error(fmt::format("the guest did not power off within {}s of the power button; it was killed",
                                   grace / kj::SECONDS));
      }
    });
  });
}

}  // namespace provium
