#include "vm.h"

#include <agent.capnp.h>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace provium::runner {
namespace {

constexpr std::uint32_t kNewFileMode = 0644;

std::string quoted(const std::string& text) { return "`" + text + "`"; }

}  // namespace

const char* to_string(VmState state) {
  switch (state) {
    case VmState::created: return "created";
    case VmState::booted: return "booted";
    case VmState::paused: return "paused";
    case VmState::shutdown: return "shutdown";
    case VmState::dead: return "dead";
  }
  return "unknown";
}

Vm::Vm(std::string name, std::string profile, VmSpec creation_spec, std::unique_ptr<VmBackend> backend,
       TestClock& clock)
    : name_(std::move(name)),
      profile_(std::move(profile)),
      creation_spec_(std::move(creation_spec)),
      backend_(std::move(backend)),
      clock_(clock) {}

std::string Vm::prefix(const std::string& op) const { return "vm " + quoted(name_) + ": " + op + ": "; }

std::optional<std::uint32_t> Vm::cid() const {
  if (!info_ || info_->cid == 0) return std::nullopt;
  return info_->cid;
}

std::string Vm::console_excerpt() {
  std::string tail;
  try {
    tail = backend_->console_tail(kConsoleExcerptBytes);
  } catch (const std::exception& error) {
    return "\n(console output unavailable: " + std::string(error.what()) + ")";
  }
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
  if (tail.empty()) return "\n(no console output)";
  return "\n--- last console output of vm " + quoted(name_) + " ---\n" + tail;
}

void Vm::mark_dead() {
  state_ = VmState::dead;
  open_files_ = 0;  // the agent's descriptors went with it
  agent_.reset();
  ++agent_epoch_;
  console_input_.reset();
}

std::string Vm::boot_failure(const std::string& reason) {
  mark_dead();
  return "vm " + quoted(name_) + ": boot failed: " + reason + console_excerpt();
}

void Vm::require_booted(const std::string& op) const {
  if (state_ == VmState::booted) return;
  std::string message = prefix(op) + "VM is " + quoted(to_string(state_));
  if (state_ == VmState::created) message += ", boot it first";
  if (state_ == VmState::paused) message += ", resume it first";
  if (state_ == VmState::dead) message += " (its guest died earlier)";
  throw std::runtime_error(message);
}

void Vm::boot(const VmSpec& overrides) {
  launch(overrides);
  greet();
}

void Vm::launch(const VmSpec& overrides) {
  if (state_ != VmState::created || launched_agent_fd_) {
    throw std::runtime_error(prefix("boot") + "VM is " + quoted(to_string(state_)) +
                             (state_ == VmState::booted || launched_agent_fd_ ? ", already booted"
                                                                              : ", it cannot boot again"));
  }
  const VmSpec spec = merge_vm_specs(creation_spec_, overrides);
  if (boot_check_) boot_check_(spec);
  BootedVm booted;
  try {
    booted = backend_->boot(spec, clock_.deadline());
  } catch (const DeadlineExceeded&) {
    mark_dead();
    clock_.fire();
  } catch (const std::exception& error) {
    throw std::runtime_error(boot_failure(error.what()));
  }
  info_ = booted.info;
  launched_agent_fd_ = std::move(booted.agent_fd);
}

void Vm::greet() {
  if (!launched_agent_fd_) throw std::runtime_error(prefix("boot") + "the guest was not launched");
  kj::AutoCloseFd fd = std::move(*launched_agent_fd_);
  launched_agent_fd_.reset();
  greet_agent(std::move(fd), "boot");
  state_ = VmState::booted;
  ++power_cycle_;
}

void Vm::greet_agent(kj::AutoCloseFd fd, const std::string& what, const RestoredVm* restored) {
  const auto failure = [&](const std::string& reason) {
    mark_dead();
    return "vm " + quoted(name_) + ": " + what + " failed: " + reason + console_excerpt();
  };
  agent_ = std::make_unique<AgentClient>(std::move(fd));
  const Deadline hello_deadline = Deadline::after(kAgentHelloTimeout).earliest(clock_.deadline());
  AgentHello hello;
  try {
    hello = restored ? agent_->hello_restored(wire::agent::PROTOCOL_VERSION, restored->entropy,
                                              restored->host_time_ns, hello_deadline)
                     : agent_->hello(wire::agent::PROTOCOL_VERSION, hello_deadline);
  } catch (const AgentError& error) {
    if (error.kind() == AgentError::Kind::timeout && clock_.note_if_expired()) {
      mark_dead();
      clock_.fire();
    }
    switch (error.kind()) {
      case AgentError::Kind::closed:
        throw std::runtime_error(failure("the agent channel closed before the agent said hello"));
      case AgentError::Kind::timeout:
        throw std::runtime_error(
            failure("no hello from the agent within " + std::to_string(kAgentHelloTimeout.count()) + "s"));
      case AgentError::Kind::protocol:
        throw std::runtime_error(failure(std::string("agent protocol error: ") + error.what()));
      case AgentError::Kind::remote:
        throw std::runtime_error(failure(std::string(restored ? "the agent refused " : "the agent refused hello: ") +
                                         error.what()));
    }
  }
  if (hello.protocol_version != wire::agent::PROTOCOL_VERSION) {
    throw std::runtime_error(failure("the agent speaks protocol " + std::to_string(hello.protocol_version) +
                                     ", this runner speaks " + std::to_string(wire::agent::PROTOCOL_VERSION)));
  }
}

template <typename Call>
auto Vm::agent_call(const std::string& op, Call&& call) {
  require_booted(op);
  try {
    return call(*agent_, clock_.deadline());
  } catch (const AgentError& error) {
    switch (error.kind()) {
      case AgentError::Kind::remote:
        throw std::runtime_error(prefix(op) + error.what());
      case AgentError::Kind::timeout:
        if (clock_.note_if_expired()) clock_.fire();
        throw std::runtime_error(prefix(op) + error.what());
      case AgentError::Kind::closed: {
        mark_dead();
        throw std::runtime_error(prefix(op) + "the guest died (agent channel closed)" + console_excerpt());
      }
      case AgentError::Kind::protocol: {
        mark_dead();
        throw std::runtime_error(prefix(op) + "agent protocol error, treating the guest as dead: " + error.what() +
                                 console_excerpt());
      }
    }
    throw;
  }
}

CommandResult Vm::run(const GuestCommand& command) {
  return agent_call("run", [&](AgentClient& agent, Deadline deadline) { return agent.run(command, deadline); });
}

std::string Vm::read_file(const std::string& path) {
  return agent_call("read_file " + quoted(path), [&](AgentClient& agent, Deadline deadline) {
    return agent.read_file_streamed(path, deadline);
  });
}

void Vm::write_file(const std::string& path, std::string_view data) {
  agent_call("write_file " + quoted(path), [&](AgentClient& agent, Deadline deadline) {
    agent.write_file(path, data, kNewFileMode, deadline);
  });
}

GuestStat Vm::stat(const std::string& path) {
  return agent_call("stat " + quoted(path),
                    [&](AgentClient& agent, Deadline deadline) { return agent.stat(path, deadline); });
}

std::vector<GuestDirEntry> Vm::listdir(const std::string& path) {
  return agent_call("listdir " + quoted(path),
                    [&](AgentClient& agent, Deadline deadline) { return agent.listdir(path, deadline); });
}

void Vm::mkdir(const std::string& path, bool parents, std::uint32_t perm) {
  agent_call("mkdir " + quoted(path),
             [&](AgentClient& agent, Deadline deadline) { agent.mkdir(path, parents, perm, deadline); });
}

void Vm::unlink(const std::string& path) {
  agent_call("unlink " + quoted(path), [&](AgentClient& agent, Deadline deadline) { agent.unlink(path, deadline); });
}

void Vm::configure_nic(const std::array<std::uint8_t, 6>& mac, const std::vector<std::string>& addresses, bool up,
                       std::optional<std::uint32_t> slot) {
  std::optional<std::array<std::uint8_t, 6>> previous;
  if (slot) {
    if (const auto found = previous_macs_.find(*slot); found != previous_macs_.end() && found->second != mac) {
      previous = found->second;
    }
  }
  agent_call("configure its NIC", [&](AgentClient& agent, Deadline deadline) {
    agent.configure_nic(mac, addresses, up, deadline, previous);
  });
  if (slot) previous_macs_.erase(*slot);
  nic_settings_[mac] = NicSetting{addresses, up};
}

void Vm::set_hosts(const std::vector<std::pair<std::string, std::string>>& entries) {
  agent_call("set its host names", [&](AgentClient& agent, Deadline deadline) { agent.set_hosts(entries, deadline); });
  hosts_ = entries;
}

void Vm::reapply_network() {
  // Copies: configure_nic and set_hosts record into these maps as they go.
  const auto nics = nic_settings_;
  for (const auto& [mac, nic] : nics) configure_nic(mac, nic.addresses, nic.up);
  if (const auto hosts = hosts_) set_hosts(*hosts);
}

void Vm::rename(const std::string& from, const std::string& to) {
  agent_call("rename " + quoted(from) + " to " + quoted(to),
             [&](AgentClient& agent, Deadline deadline) { agent.rename(from, to, deadline); });
}

std::uint64_t Vm::open_file(const std::string& path, std::uint32_t mode_bits, std::uint32_t perm,
                            std::uint32_t worker) {
  const auto handle = agent_call("open_file " + quoted(path), [&](AgentClient& agent, Deadline deadline) {
    return agent.open_file(path, mode_bits, perm, deadline, worker);
  });
  ++open_files_;
  return handle;
}

std::string Vm::file_read(const std::string& what, std::uint64_t handle, std::uint32_t max_bytes,
                          std::uint32_t worker) {
  return agent_call(what + ": read", [&](AgentClient& agent, Deadline deadline) {
    return agent.file_read(handle, max_bytes, deadline, worker);
  });
}

std::uint64_t Vm::file_write(const std::string& what, std::uint64_t handle, std::string_view data,
                             std::uint32_t worker) {
  return agent_call(what + ": write", [&](AgentClient& agent, Deadline deadline) {
    return agent.file_write(handle, data, deadline, worker);
  });
}

std::uint64_t Vm::file_seek(const std::string& what, std::uint64_t handle, std::int64_t offset, int whence,
                            std::uint32_t worker) {
  return agent_call(what + ": seek", [&](AgentClient& agent, Deadline deadline) {
    return agent.file_seek(handle, offset, whence, deadline, worker);
  });
}

std::uint64_t Vm::file_tell(const std::string& what, std::uint64_t handle, std::uint32_t worker) {
  return agent_call(what + ": tell",
                    [&](AgentClient& agent, Deadline deadline) { return agent.file_tell(handle, deadline, worker); });
}

void Vm::file_close(const std::string& what, std::uint64_t handle, std::uint32_t worker) {
  // Counted closed even if the agent complains: the handle is unusable either way.
  if (open_files_ > 0) --open_files_;
  agent_call(what + ": close",
             [&](AgentClient& agent, Deadline deadline) { agent.file_close(handle, deadline, worker); });
}

Layer0Result Vm::syscall(const SyscallCall& call) {
  return agent_call("syscall " + std::to_string(call.nr),
                    [&](AgentClient& agent, Deadline deadline) { return agent.syscall(call, deadline); });
}

Layer0Result Vm::ioctl(const IoctlCall& call) {
  return agent_call("ioctl", [&](AgentClient& agent, Deadline deadline) { return agent.ioctl(call, deadline); });
}

std::int64_t Vm::clock_get_ns() {
  return agent_call("clock: get", [&](AgentClient& agent, Deadline deadline) { return agent.clock_get(deadline); });
}

void Vm::clock_set_ns(std::int64_t ns) {
  agent_call("clock: set", [&](AgentClient& agent, Deadline deadline) { agent.clock_set(ns, deadline); });
}

void Vm::sleep(Millis duration) {
  const Deadline wake = Deadline::after(duration);
  const Deadline until = wake.earliest(clock_.deadline());
  while (!until.expired()) ::poll(nullptr, 0, until.poll_timeout_ms());  // poll: allowed by the sandbox
  if (!wake.expired() || clock_.note_if_expired()) clock_.fire();
}

StreamOpened Vm::tail_file(const std::string& path, bool from_end, std::int64_t offset) {
  return agent_call("tail_file " + quoted(path), [&](AgentClient& agent, Deadline deadline) {
    return agent.tail_file(path, from_end, offset, deadline);
  });
}

StreamOpened Vm::fd_stream(std::uint64_t handle) {
  return agent_call("fd_stream " + std::to_string(handle), [&](AgentClient& agent, Deadline deadline) {
    return agent.fd_stream(handle, true, deadline);
  });
}

std::optional<std::string> Vm::stream_read(const std::string& what, StreamKey key, std::size_t max, Deadline wait) {
  return agent_call(what, [&](AgentClient& agent, Deadline test_deadline) -> std::optional<std::string> {
    try {
      return agent.stream_read(key, max, wait.earliest(test_deadline));
    } catch (const AgentError& error) {
      // The caller's own wait running out is an answer ("nothing yet"); the
      // test's deadline passing is not, and goes on to agent_call.
      if (error.kind() == AgentError::Kind::timeout && !clock_.note_if_expired()) return std::nullopt;
      throw;
    }
  });
}

std::optional<StreamEnding> Vm::stream_ending(StreamKey key) const {
  if (!agent_) return std::nullopt;
  return agent_->stream_ending(key);
}

void Vm::stream_close(const std::string& what, StreamKey key) {
  if (state_ != VmState::booted) return;  // the session, and the stream with it, is gone
  agent_call(what + ": close", [&](AgentClient& agent, Deadline deadline) { agent.stream_close(key, deadline); });
}

void Vm::with_agent(const std::string& op, const std::function<void(AgentClient&, Deadline)>& call) {
  agent_call(op, call);
}

void Vm::shutdown() {
  if (state_ == VmState::shutdown) return;
  open_files_ = 0;
  agent_.reset();
  ++agent_epoch_;
  console_input_.reset();
  state_ = VmState::shutdown;
  try {
    backend_->shutdown();
  } catch (const std::exception& error) {
    throw std::runtime_error(prefix("shutdown") + error.what());
  }
}

void Vm::require_state(const std::string& op, VmState wanted) const {
  if (state_ == wanted) return;
  std::string message = prefix(op) + "VM is " + quoted(to_string(state_)) + ", it must be " + quoted(to_string(wanted));
  if (state_ == VmState::dead) message += " (its guest died earlier)";
  throw std::runtime_error(message);
}

// Runs a supervisor verb; its errors read "<verb>: <reason>".
template <typename Call>
void Vm::backend_verb(Call&& call) {
  try {
    call();
  } catch (const DeadlineExceeded&) {
    clock_.fire();
  } catch (const std::exception& error) {
    throw std::runtime_error("vm " + quoted(name_) + ": " + error.what());
  }
}

void Vm::pause() {
  require_state("pause", VmState::booted);
  backend_verb([&] { backend_->pause(); });
  state_ = VmState::paused;
}

void Vm::resume() {
  require_state("resume", VmState::paused);
  backend_verb([&] { backend_->resume(); });
  state_ = VmState::booted;
}

void Vm::reset() {
  require_state("reset", VmState::booted);
  kj::AutoCloseFd fd;
  try {
    fd = backend_->reset(clock_.deadline());
  } catch (const DeadlineExceeded&) {
    mark_dead();
    clock_.fire();
  } catch (const std::exception& error) {
    // Refused (or failed half-way, which the next operation will find out).
    throw std::runtime_error("vm " + quoted(name_) + ": " + error.what());
  }
  end_agent_session();  // the old session's files and streams died with it
  greet_agent(std::move(fd), "reset");
  reapply_network();  // the rebooted guest has none of its bridges' addresses and names
}

void Vm::note_open(std::function<std::optional<std::string>()> describe) {
  open_resources_.push_back(std::move(describe));
}

std::vector<std::string> Vm::open_resources() {
  std::vector<std::string> open;
  std::vector<std::function<std::optional<std::string>()>> kept;
  for (auto& describe : open_resources_) {
    if (auto text = describe()) {
      open.push_back(*text);
      kept.push_back(std::move(describe));
    }
  }
  open_resources_ = std::move(kept);
  return open;
}

SnapshotTaken Vm::snapshot(const std::string& path) {
  if (state_ != VmState::booted && state_ != VmState::paused) {
    throw std::runtime_error(prefix("snapshot") + "VM is " + quoted(to_string(state_)) +
                             ", it must be \"booted\" or \"paused\"");
  }
  if (const auto open = open_resources(); !open.empty()) {
    std::string list;
    for (const auto& item : open) list += "\n  " + item;
    throw std::runtime_error(prefix("snapshot") + "close what is open on this VM first (a restored guest could not " +
                             "continue it):" + list);
  }
  if (!is_quiescent()) {
    throw std::runtime_error(prefix("snapshot") + "close what is open on this VM first (" +
                             std::to_string(open_file_count()) + " open file(s), " +
                             std::to_string(open_stream_count()) +
                             " open stream(s) or process output(s)): a restored guest could not continue them");
  }
  try {
    return backend_->snapshot(path, clock_.deadline());
  } catch (const DeadlineExceeded&) {
    clock_.fire();
  } catch (const std::exception& error) {
    throw std::runtime_error("vm " + quoted(name_) + ": " + error.what());
  }
}

void Vm::restore(const std::string& path) {
  if (state_ != VmState::created && state_ != VmState::shutdown) {
    throw std::runtime_error(prefix("restore") + "VM is " + quoted(to_string(state_)) +
                             ", it must be \"created\" or \"shutdown\" (shut it down first)");
  }
  RestoredVm restored;
  try {
    restored = backend_->restore(path, clock_.deadline());
  } catch (const DeadlineExceeded&) {
    mark_dead();
    clock_.fire();
  } catch (const std::exception& error) {
    throw std::runtime_error("vm " + quoted(name_) + ": " + error.what());
  }
  adopt_restored(std::move(restored));
}

void Vm::adopt_restored(RestoredVm restored) {
  info_ = restored.booted.info;
  end_agent_session();
  // A copy of a running guest: make it diverge from every other copy, and
  // bring its wall clock (stopped at the snapshot) to now, in the same round
  // trip as hello.
  kj::AutoCloseFd agent_fd = std::move(restored.booted.agent_fd);
  greet_agent(std::move(agent_fd), "restore", &restored);
  state_ = VmState::booted;
  ++power_cycle_;
  // The guest's network settings are the snapshot's now; its bridges tell
  // it the current ones when they take it in again.
  nic_settings_.clear();
  hosts_.reset();
  previous_macs_.clear();
  for (std::size_t slot = 0; slot < restored.nic_macs.size(); ++slot) {
    previous_macs_[static_cast<std::uint32_t>(slot)] = restored.nic_macs[slot];
  }
}

void Vm::power_button() {
  require_state("power_button", VmState::booted);
  try {
    backend_->power_button(clock_.deadline());
  } catch (const DeadlineExceeded&) {
    mark_dead();
    clock_.fire();
  } catch (const std::exception& error) {
    throw std::runtime_error("vm " + quoted(name_) + ": " + error.what());
  }
  end_agent_session();
  console_input_.reset();
  state_ = VmState::shutdown;
}

void Vm::end_agent_session() {
  agent_.reset();
  open_files_ = 0;
  ++agent_epoch_;  // handles and streams of the old session now read as closed
}

void Vm::check_test_deadline() {
  if (clock_.note_if_expired()) clock_.fire();
}

std::string Vm::console_log() {
  try {
    return backend_->console_log();
  } catch (const std::exception& error) {
    throw std::runtime_error(prefix("console:read_log") + error.what());
  }
}

std::unique_ptr<ConsoleConnection> Vm::open_console_output() {
  try {
    return std::make_unique<ConsoleConnection>(backend_->open_console(true, false));
  } catch (const std::exception& error) {
    throw std::runtime_error("vm " + quoted(name_) + ": console:read: " + error.what());
  }
}

bool Vm::console_write(std::string_view data, Deadline wait) {
  const std::string op = "console:write";
  if (state_ != VmState::booted && state_ != VmState::paused) {
    throw std::runtime_error(prefix(op) + "VM is " + quoted(to_string(state_)) + ", it has no console");
  }
  try {
    if (!console_input_) console_input_ = std::make_unique<ConsoleConnection>(backend_->open_console(false, true));
    if (console_input_->write(data, wait.earliest(clock_.deadline()))) return true;
  } catch (const std::exception& error) {
    console_input_.reset();
    throw std::runtime_error(prefix(op) + error.what());
  }
  check_test_deadline();
  return false;
}

void Vm::push_file(const std::string& host_path, const std::string& guest_path, const std::string& relative_to) {
  require_booted("push_file");
  HostFileOpened opened;
  try {
    opened = backend_->open_host_file(host_path, relative_to);
  } catch (const std::exception& error) {
    throw std::runtime_error("vm " + quoted(name_) + ": " + error.what());
  }
  // Chunked through a file handle, so neither the runner nor a frame holds
  // the whole file.
  constexpr std::size_t kChunk = 1024 * 1024;
  const std::string what = "push_file " + quoted(host_path) + " to " + quoted(guest_path);
  const std::uint64_t handle = open_file(guest_path, wire::agent::OPEN_WRITE | wire::agent::OPEN_CREATE |
                                                         wire::agent::OPEN_TRUNCATE, kNewFileMode);
  std::string chunk(kChunk, '\0');
  try {
    for (;;) {
      const ssize_t got = ::read(opened.fd.get(), chunk.data(), chunk.size());
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw std::runtime_error(prefix(what) + "reading the host file: " + std::strerror(errno));
      if (got == 0) break;
      std::string_view data(chunk.data(), static_cast<std::size_t>(got));
      while (!data.empty()) {
        const std::uint64_t written = file_write(what, handle, data);
        if (written == 0) throw std::runtime_error(prefix(what) + "the guest accepted no bytes");
        data.remove_prefix(std::min<std::size_t>(data.size(), written));
      }
    }
  } catch (...) {
    try {
      if (state_ == VmState::booted) file_close(what, handle);
    } catch (const std::exception&) {
      // the first error is the one to report
    }
    throw;
  }
  file_close(what, handle);
}

std::optional<std::string> Vm::close() noexcept {
  try {
    shutdown();
  } catch (const std::exception& error) {
    return std::string(error.what());
  }
  return std::nullopt;
}

}  // namespace provium::runner
