#include "qemu_vm.h"

#include <csignal>

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <unistd.h>

#include <fmt/format.h>
#include "guest_ram.h"
#include "mapped_ram_copy.h"
#include "kj_error.h"

namespace provium {

QemuVm::QemuVm(kj::AsyncIoContext& io, const std::string& name, QemuSpawnRequest request, OwnedFd ram,
               std::uint64_t ram_bytes)
    : QemuVm(io, name, spawn_qemu(kj::mv(request)), std::move(ram), ram_bytes, request.ram_shared) {}

QemuVm::QemuVm(kj::AsyncIoContext& io, const std::string& name, SpawnedQemu spawned, OwnedFd ram,
               std::uint64_t ram_bytes, bool ram_shared)
    : io_(io),
      name_(name),
      vsock_cid_(spawned.vsock_cid),
      agent_fd_(kj::mv(spawned.agent)),
      ram_(std::move(ram)),
      ram_bytes_(ram_bytes),
      ram_shared_(ram_shared),
      incoming_fd_(spawned.incoming_fd),
      process_(std::move(spawned.process)),
      console_stream_(io.lowLevelProvider->wrapSocketFd(kj::mv(spawned.console))),
      console_(*io.lowLevelProvider, *console_stream_, console_stream_.get()),
      stderr_stream_(io.lowLevelProvider->wrapInputFd(kj::mv(spawned.qemu_stderr))),
      qmp_(io.lowLevelProvider->wrapUnixSocketFd(kj::mv(spawned.qmp))),
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
  // The commands that follow the handshake are written with it, before QEMU
  // has even greeted: a boot costs one exchange, a restore three (see
  // load_incoming_state).
  kj::Promise<nlohmann::json> status =
      incoming_fd_ ? load_incoming_state()
                   : qmp_.handshake({QmpCommand{"query-status"}}).then([](std::vector<nlohmann::json> values) {
                       return values.at(0);
                     });
  auto ready = status.then([this](nlohmann::json status) {
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

namespace {

// QEMU skips shared RAM blocks in the stream: the snapshot's RAM is the
// memory file itself (snapshot_file.h).
const nlohmann::json kIgnoreSharedRam = {
    {"capabilities", nlohmann::json::array({{{"capability", "x-ignore-shared"}, {"state", true}}})}};
// A restore also turns events on: QEMU then reports the load's progress as
// MIGRATION events, so nobody has to poll for it.
const nlohmann::json kIgnoreSharedRamWithEvents = {
    {"capabilities", nlohmann::json::array({{{"capability", "x-ignore-shared"}, {"state", true}},
                                            {{"capability", "events"}, {"state", true}}})}};
constexpr auto kMigrationPoll = 2 * kj::MILLISECONDS;
constexpr auto kMigrationTimeout = 60 * kj::SECONDS;
// cont + query-status exchanges before a loaded guest must be running.
constexpr int kStartAttempts = 3;

}  // namespace

kj::Promise<nlohmann::json> QemuVm::load_incoming_state() {
  // 1. capabilities and migrate-incoming, behind the handshake; 2. the
  // MIGRATION event saying the state is loaded; 3. cont (the guest was
  // stopped when snapshotted, so it comes back paused) and query-status to
  // confirm it runs, in one exchange.
  return qmp_
      .handshake({QmpCommand{"migrate-set-capabilities", kIgnoreSharedRamWithEvents},
                  QmpCommand{"migrate-incoming", {{"uri", fmt::format("fd:{}", *incoming_fd_)}}}})
      .then([this](std::vector<nlohmann::json>) { return migration_loaded(); })
      .then([this]() { return start_loaded_guest(kStartAttempts); });
}

kj::Promise<void> QemuVm::migration_loaded() {
  auto late = io_.provider->getTimer().afterDelay(kMigrationTimeout).then([]() -> kj::Promise<void> {
    throw_kj_error("the migration did not finish within 60 s");
  });
  return next_migration_status().exclusiveJoin(kj::mv(late));
}

kj::Promise<void> QemuVm::next_migration_status() {
  return qmp_.next_event("MIGRATION").then([this](nlohmann::json event) -> kj::Promise<void> {
    const std::string status = event["data"].value("status", std::string());
    if (status == "completed") return kj::READY_NOW;
    if (status == "failed" || status == "cancelled") {
      // The event carries no reason; query-migrate has it.
      return qmp_.execute("query-migrate").then([status](nlohmann::json state) {
        throw_kj_error(
            fmt::format("migration {}: {}", status, state.value("error-desc", std::string("no reason given"))));
      });
    }
    return next_migration_status();  // setup, active, ...
  });
}

kj::Promise<nlohmann::json> QemuVm::start_loaded_guest(int attempts_left) {
  return qmp_.execute_all({QmpCommand{"cont"}, QmpCommand{"query-status"}})
      .then([this, attempts_left](std::vector<nlohmann::json> values) -> kj::Promise<nlohmann::json> {
        nlohmann::json status = values.at(1);
        // QEMU announces the load a moment before it leaves `inmigrate`; a
        // cont that lands in between is dropped, so the guest stays paused.
        const std::string state = status.value("status", std::string());
        if ((state == "inmigrate" || state == "paused") && attempts_left > 1) {
          return start_loaded_guest(attempts_left - 1);
        }
        return kj::mv(status);
      });
}

kj::Promise<void> QemuVm::wait_migration_done(kj::TimePoint deadline) {
  return qmp_.execute("query-migrate").then([this, deadline](nlohmann::json state) -> kj::Promise<void> {
    const std::string status = state.value("status", std::string());
    if (status == "completed") return kj::READY_NOW;
    if (status == "failed" || status == "cancelled") {
      throw_kj_error(fmt::format("migration {}: {}", status, state.value("error-desc", std::string("no reason given"))));
    }
    if (io_.provider->getTimer().now() > deadline) throw_kj_error("the migration did not finish within 60 s");
    return io_.provider->getTimer().afterDelay(kMigrationPoll).then([this, deadline]() {
      return wait_migration_done(deadline);
    });
  });
}

kj::Promise<void> QemuVm::snapshot(int into_fd) {
  if (!qmp_ready_ || !running()) throw_kj_error("QEMU is not running");
  auto was_running = kj::heap<bool>(false);
  bool& running_before = *was_running;
  const auto deadline = io_.provider->getTimer().now() + kMigrationTimeout;
  auto work =
      qmp_.execute("query-status")
          .then([this, &running_before](nlohmann::json status) {
            running_before = status.value("status", std::string()) == "running";
            return running_before ? qmp_.execute("stop").ignoreResult() : kj::Promise<void>(kj::READY_NOW);
          })
          .then([this, into_fd]() {
            // The guest is stopped: its RAM holds still while we copy it.
            // A restored guest's changes live in QEMU's private copy-on-write
            // pages, not in the file it maps: read them out of QEMU.
            if (ram_shared_) {
              copy_sparse(ram_.get(), into_fd, ram_bytes_);
            } else {
              copy_mapped_ram(process_.pid(), ram_.get(), ram_bytes_, into_fd);
            }
            if (::lseek(into_fd, static_cast<off_t>(ram_bytes_), SEEK_SET) < 0) {
              throw_kj_error(fmt::format("snapshot: lseek: {}", std::strerror(errno)));
            }
            return qmp_.execute("migrate-set-capabilities", kIgnoreSharedRam);
          })
          .then([this, into_fd](nlohmann::json) {
            // QEMU writes the device state from the fd's offset (shared with ours).
            return qmp_.execute_with_fd("getfd", {{"fdname", "provium-snapshot"}}, into_fd);
          })
          .then([this](nlohmann::json) { return qmp_.execute("migrate", {{"uri", "fd:provium-snapshot"}}); })
          .then([this, deadline](nlohmann::json) { return wait_migration_done(deadline); })
          .then([this, &running_before]() {
            return running_before ? qmp_.execute("cont").ignoreResult() : kj::Promise<void>(kj::READY_NOW);
          });
  return canceler_.wrap(kj::mv(work)).attach(kj::mv(was_running));
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
