// One running QEMU guest owned by the supervisor: its process, its console
// (a ConsoleHub drains it continuously, so a stalled reader never blocks the
// guest), its QMP monitor (lifecycle verbs) and our end of the agent channel.
// Destroying it kills QEMU and reaps it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <kj/async-io.h>

#include "exit_watcher.h"
#include "owned_fd.h"
#include "qemu_spawn.h"
#include "qmp_client.h"
#include "running_vm.h"
#include "console_hub.h"
#include "stream_drain.h"
#include "tail_buffer.h"

namespace provium {

class QemuVm final : public RunningVm {
 public:
  // Spawns QEMU; throws std::runtime_error if it cannot be started. `ram`
  // is the guest's RAM (a GuestRam memfd, or for a restore the snapshot
  // file, mapped copy-on-write), already named in request.ram_fd; the VM
  // keeps it open for snapshots.
  QemuVm(kj::AsyncIoContext& io, const std::string& name, QemuSpawnRequest request, OwnedFd ram,
         std::uint64_t ram_bytes);
  QemuVm(const QemuVm&) = delete;
  QemuVm& operator=(const QemuVm&) = delete;

  // Resolves once QEMU answers on QMP with the machine running (the kernel is
  // loaded); rejects with QEMU's own stderr and the console tail if it exits
  // or does not answer within `timeout`.
  kj::Promise<void> wait_ready(kj::Duration timeout) override;
  // QMP quit (SIGTERM if QMP is not up), then SIGKILL after `grace`; reaped.
  kj::Promise<void> shutdown(kj::Duration grace) override;
  // Immediate SIGKILL and reap.
  void kill() override;

  bool running() { return process_.running() && !process_.poll(); }
  std::string console_tail(std::size_t max_bytes) const override { return console_.log().tail(max_bytes); }
  ConsoleHub& console() override { return console_; }
  kj::AutoCloseFd agent_fd_for_runner() override;
  std::optional<std::uint32_t> vsock_cid() const override { return vsock_cid_; }

  // QMP stop / cont / system_reset / system_powerdown (see running_vm.h).
  kj::Promise<void> pause() override;
  kj::Promise<void> resume() override;
  kj::Promise<void> reset() override;
  kj::Promise<void> power_button(kj::Duration grace) override;
  kj::Promise<void> set_link(std::size_t slot, bool up) override;
  kj::Promise<void> snapshot(int into_fd) override;

 private:
  QemuVm(kj::AsyncIoContext& io, const std::string& name, SpawnedQemu spawned, OwnedFd ram, std::uint64_t ram_bytes,
         bool ram_shared);
  // Restore: handshake, feeds the snapshot's device state to QEMU, waits
  // until it is loaded and lets the guest run; resolves with query-status.
  kj::Promise<nlohmann::json> load_incoming_state();
  // Restore: resolves on the MIGRATION event saying completed; rejects on
  // failed or cancelled (with QEMU's reason), or after 60 s.
  kj::Promise<void> migration_loaded();
  kj::Promise<void> next_migration_status();
  // Restore: cont + query-status until the guest runs (or attempts run out);
  // resolves with the last query-status.
  kj::Promise<nlohmann::json> start_loaded_guest(int attempts_left);
  // Snapshot: asks query-migrate until it says completed (or failed: rejects).
  // The source's MIGRATION completed event comes before QEMU accepts cont.
  kj::Promise<void> wait_migration_done(kj::TimePoint deadline);
  kj::Promise<void> fail_startup(kj::Exception&& reason);
  std::string failure_details(const std::string& what);
  kj::Promise<void> qmp_command(const std::string& command, const nlohmann::json& arguments = nlohmann::json::object());
  // Reads and drops whatever the old agent left on the agent channel.
  void discard_agent_leftovers();

  kj::AsyncIoContext& io_;
  std::string name_;
  std::optional<std::uint32_t> vsock_cid_;
  TailBuffer qemu_stderr_{16 * 1024};
  kj::AutoCloseFd agent_fd_;
  OwnedFd ram_;
  std::uint64_t ram_bytes_ = 0;
  bool ram_shared_ = true;
  std::optional<int> incoming_fd_;
  Subprocess process_;
  std::optional<ExitStatus> exit_status_;
  bool qmp_ready_ = false;
  kj::Own<kj::AsyncIoStream> console_stream_;
  ConsoleHub console_;
  kj::Own<kj::AsyncInputStream> stderr_stream_;
  QmpClient qmp_;
  ExitWatcher exit_watcher_;
  kj::ForkedPromise<void> exited_;
  kj::ForkedPromise<void> stderr_drained_;
  kj::Promise<void> console_drain_;
  // Last member, so destroyed first: promises handed out by wait_ready() and
  // shutdown() reject instead of running on a destroyed QemuVm.
  kj::Canceler canceler_;
};

}  // namespace provium
