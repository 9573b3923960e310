// One guest as test code sees it: a small state machine over the
// supervisor's VM handle and, once booted, the agent connection.
#pragma once

#include "agent_client.h"
#include "console_connection.h"
#include "guest_command.h"
#include "supervisor_link.h"
#include "test_clock.h"
#include "vm_spec.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace provium::runner {

enum class VmState { created, booted, paused, shutdown, dead };
const char* to_string(VmState state);

// How long a freshly booted guest gets to say hello (capped by the test's
// own deadline).
inline constexpr std::chrono::seconds kAgentHelloTimeout{120};
// How much console output accompanies a boot failure or a dead guest.
inline constexpr std::uint32_t kConsoleExcerptBytes = 2048;

class Vm {
 public:
  Vm(std::string name, std::string profile, VmSpec creation_spec, std::unique_ptr<VmBackend> backend,
     TestClock& clock);

  // All of these throw std::runtime_error whose text starts "vm `<name>`:",
  // or TestTimedOut when the test's deadline passes while they wait.
  void boot(const VmSpec& overrides);
  // boot() in two halves, so that lab:boot() starts every guest before it
  // waits for the first agent: launch() has the supervisor start the guest,
  // greet() waits for its agent's hello. The VM reads `created` between.
  void launch(const VmSpec& overrides);
  void greet();
  CommandResult run(const GuestCommand& command);
  std::string read_file(const std::string& path);
  void write_file(const std::string& path, std::string_view data);
  GuestStat stat(const std::string& path);
  std::vector<GuestDirEntry> listdir(const std::string& path);
  void mkdir(const std::string& path, bool parents, std::uint32_t perm);
  void unlink(const std::string& path);
  void rename(const std::string& from, const std::string& to);

  // Networking, applied by the agent (bridge.cpp calls these after the
  // supervisor attached or detached a NIC). The VM remembers what it was
  // told and tells the agent again after a reset, whose reboot forgets it.
  // `slot` is the NIC's index (eth<slot>), when known: a NIC restored from
  // a lab snapshot may still carry the MAC it had there (expect_nic_macs).
  void configure_nic(const std::array<std::uint8_t, 6>& mac, const std::vector<std::string>& addresses, bool up,
                     std::optional<std::uint32_t> slot = std::nullopt);
  // After a restore into another VM than the one snapshotted: the guest's
  // NICs still have the MAC addresses they had there, by slot. The next
  // configure_nic of each slot has the agent give it its new address.
  void expect_nic_macs(std::map<std::uint32_t, std::array<std::uint8_t, 6>> previous_by_slot) {
    previous_macs_ = std::move(previous_by_slot);
  }
  // Bumped each time the guest (re)starts from power-off: boot or restore.
  // A bridge that wired an older power cycle wires the VM again.
  std::uint64_t power_cycle() const { return power_cycle_; }
  void set_hosts(const std::vector<std::pair<std::string, std::string>>& entries);
  // The supervisor's handle, for bridge:attach.
  VmBackend& backend() { return *backend_; }

  // File handles; `what` names the file in errors ("file `/p`: read").
  // `worker` 0 is the main agent; handles are numbered per worker.
  std::uint64_t open_file(const std::string& path, std::uint32_t mode_bits, std::uint32_t perm,
                          std::uint32_t worker = 0);
  std::string file_read(const std::string& what, std::uint64_t handle, std::uint32_t max_bytes,
                        std::uint32_t worker = 0);
  std::uint64_t file_write(const std::string& what, std::uint64_t handle, std::string_view data,
                           std::uint32_t worker = 0);
  std::uint64_t file_seek(const std::string& what, std::uint64_t handle, std::int64_t offset, int whence,
                          std::uint32_t worker = 0);
  std::uint64_t file_tell(const std::string& what, std::uint64_t handle, std::uint32_t worker = 0);
  void file_close(const std::string& what, std::uint64_t handle, std::uint32_t worker = 0);
  std::size_t open_file_count() const { return open_files_; }

  Layer0Result syscall(const SyscallCall& call);
  Layer0Result ioctl(const IoctlCall& call);

  // The guest's wall clock (CLOCK_REALTIME), ns since the epoch.
  std::int64_t clock_get_ns();
  void clock_set_ns(std::int64_t ns);
  // Host-side wall-clock sleep, bounded by the test's deadline.
  void sleep(Millis duration);

  // Streams. Reads wait until `wait` (capped by the test's deadline) and
  // return nothing when it passes; "" once the stream ended and is drained.
  StreamOpened tail_file(const std::string& path, bool from_end, std::int64_t offset);
  StreamOpened fd_stream(std::uint64_t handle);
  std::optional<std::string> stream_read(const std::string& what, StreamKey key, std::size_t max, Deadline wait);
  std::optional<StreamEnding> stream_ending(StreamKey key) const;
  void stream_close(const std::string& what, StreamKey key);
  std::size_t open_stream_count() const {
    return (agent_ ? agent_->open_stream_count() : 0) + open_console_streams_;
  }
  // No open file handles and no open streams.
  bool is_quiescent() const { return open_file_count() == 0 && open_stream_count() == 0; }
  // For processes, workers and batches (guest_process.cpp, guest_worker.cpp,
  // batch_binding.cpp): runs `call` with the agent and the test's deadline,
  // failures mapped as for every other op ("vm `a`: <op>: ...").
  void with_agent(const std::string& op, const std::function<void(AgentClient&, Deadline)>& call);

  void shutdown();

  // Runs before every boot with the options it will use, and may refuse it
  // by throwing (the VM then stays `created`); the lab checks claims here.
  using BootCheck = std::function<void(const VmSpec&)>;
  void set_boot_check(BootCheck check) { boot_check_ = std::move(check); }

  // Lifecycle verbs (200-vm.md). pause: booted -> paused; resume: paused ->
  // booted; reset: booted -> booted with a new agent session (open files and
  // streams of the old one are gone); power_button: booted -> shutdown.
  void pause();
  void resume();
  void reset();
  void power_button();

  // Snapshots (docs/snapshots.md). snapshot: booted or paused, with no open
  // files or streams (they could not survive a restore); the guest runs on.
  // restore: created or shut down -> booted, as the guest in the snapshot,
  // with fresh entropy and the host's wall clock.
  SnapshotTaken snapshot(const std::string& path);
  // What test code holds open on this VM (files, streams, processes,
  // workers), for vm:snapshot's refusal: `describe` says what it is and where
  // it was opened while it is open, and nothing once it is not.
  void note_open(std::function<std::optional<std::string>()> describe);
  std::vector<std::string> open_resources();
  void restore(const std::string& path);
  // Takes a guest the supervisor already restored (provium:vm_fixture).
  void adopt_restored(RestoredVm restored);

  // Console. The log as the supervisor kept it; a new output socket for a
  // console stream; input written through one connection kept per VM.
  std::string console_log();
  std::unique_ptr<ConsoleConnection> open_console_output();
  // Throws on an absent console; returns false when `wait` passed first.
  bool console_write(std::string_view data, Deadline wait);
  // The test's deadline, and a check of it that throws TestTimedOut once
  // it passed (for waits outside the agent connection).
  Deadline test_deadline() const { return clock_.deadline(); }
  void check_test_deadline();
  void console_stream_opened() { ++open_console_streams_; }
  void console_stream_closed() { if (open_console_streams_ > 0) --open_console_streams_; }

  // Copies host file `host_path` (checked and opened by the supervisor;
  // relative to the directory of the chunk `relative_to`) to `guest_path`.
  void push_file(const std::string& host_path, const std::string& guest_path, const std::string& relative_to);

  // Bumped whenever the agent session is replaced (reset): handles and
  // streams of an older session must not reach the new one.
  std::uint64_t agent_epoch() const { return agent_epoch_; }

  // Like shutdown() but never throws: the error text, if any.
  std::optional<std::string> close() noexcept;

  const std::string& name() const { return name_; }
  const std::string& profile() const { return profile_; }
  VmState state() const { return state_; }
  std::optional<std::uint32_t> cid() const;

 private:
  template <typename Call>
  auto agent_call(const std::string& op, Call&& call);
  void require_booted(const std::string& op) const;
  std::string prefix(const std::string& op) const;
  std::string boot_failure(const std::string& reason);
  // Connects to the agent on `fd` and checks its hello; on failure the VM is
  // dead and the error reads "vm `a`: <what> failed: ...". A restored guest
  // (`restored`) also gets its fresh entropy and wall clock, sent with hello.
  void greet_agent(kj::AutoCloseFd fd, const std::string& what, const RestoredVm* restored = nullptr);
  // For verbs that need a given state.
  void require_state(const std::string& op, VmState wanted) const;
  template <typename Call>
  void backend_verb(Call&& call);
  void mark_dead();
  // Forgets the agent connection and everything opened through it.
  void end_agent_session();
  // "\n--- last console output of vm `a` ---\n..." or empty.
  std::string console_excerpt();
  // Tells a fresh agent the NIC addresses and names the bridges gave it.
  void reapply_network();

  std::string name_;
  std::string profile_;
  VmSpec creation_spec_;
  std::unique_ptr<VmBackend> backend_;
  TestClock& clock_;
  VmState state_ = VmState::created;
  std::unique_ptr<AgentClient> agent_;
  std::optional<VmInfo> info_;
  std::size_t open_files_ = 0;  // handles opened through this VM and not closed
  std::size_t open_console_streams_ = 0;
  std::uint64_t agent_epoch_ = 0;
  std::unique_ptr<ConsoleConnection> console_input_;  // opened on the first console write
  std::vector<std::function<std::optional<std::string>()>> open_resources_;
  // The last configure_nic per NIC (by MAC) and the last set_hosts.
  struct NicSetting {
    std::vector<std::string> addresses;
    bool up = false;
  };
  std::map<std::array<std::uint8_t, 6>, NicSetting> nic_settings_;
  std::map<std::uint32_t, std::array<std::uint8_t, 6>> previous_macs_;  // by slot
  std::uint64_t power_cycle_ = 0;
  std::optional<std::vector<std::pair<std::string, std::string>>> hosts_;
  BootCheck boot_check_;
  std::optional<kj::AutoCloseFd> launched_agent_fd_;  // between launch() and greet()
};

}  // namespace provium::runner
