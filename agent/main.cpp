// provium-agent: the in-guest end of Provium. Started by the kernel as the
// guest's init (or next to the user's init), or with --connect-fd for local
// runs and tests; serves the host's requests until told to power off.
#include "agent_identity.h"
#include "agent_options.h"
#include "agent_session.h"
#include "boot_clock.h"
#include "child_reaper.h"
#include "event_loop.h"
#include "guest_init.h"
#include "init_chain.h"
#include "kernel_modules.h"
#include "power_button.h"
#include "log.h"
#include "init_signals.h"
#include "power_control.h"
#include "responses.h"
#include "seeded_rng_sync.h"
#include "worker_credentials.h"
#include "virtio_port.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <system_error>

namespace provium::agent {
namespace {

InitRole prepare_guest_as_init(int argc, char** argv) {
  mount_pseudo_filesystems();
  open_standard_fds();
  // Before anything (the user's init included) can look at the clock.
  apply_initial_time_from_cmdline();
  const InitRole role = chain_to_user_init(argc, argv);  // in the parent, does not return
  set_default_path();
  load_bundled_modules();
  synchronise_seeded_rng();  // virtio-rng is one of the modules
  bring_up_loopback();
  return role;
}

UniqueFd adopt_connected_fd(int fd) {
  // Not for the commands we start, and never block the loop on it.
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return UniqueFd(fd);
}

// `role` is set when the kernel started the agent as PID 1.
int serve(const AgentOptions& options, std::optional<InitRole> role) {
  // Every write to a closed pipe or socket must come back as EPIPE, not kill us.
  ::signal(SIGPIPE, SIG_IGN);
  block_child_signals();

  UniqueFd channel_fd;
  FrameChannel::Kind kind = FrameChannel::Kind::kSocket;
  bool in_guest = role.has_value();
  if (options.connect_fd) {
    if (::fcntl(*options.connect_fd, F_GETFD) == -1) {
      log_error("--connect-fd " + std::to_string(*options.connect_fd) + ": no such open file descriptor");
      return 2;
    }
    channel_fd = adopt_connected_fd(*options.connect_fd);
  } else {
    channel_fd = open_virtio_port(options.port_name);
    if (!channel_fd.valid()) return 1;
    kind = FrameChannel::Kind::kVirtioPort;
    in_guest = true;
  }

  EventLoop loop;
  ChildReaper reaper(loop);
  std::optional<InitSignals> init_signals;
  std::optional<PowerButton> power_button;
  if (role == InitRole::kSoleInit) {
    init_signals.emplace(loop);
    power_button.emplace(loop, [] { power_off_guest(); });
  }
  AgentSession::Options session_options;
  session_options.channel_kind = kind;
  session_options.worker_id = options.worker_id.value_or(0);
  session_options.hosts_file = options.hosts_file;
  if (options.retirement_grace_ms) {
    session_options.retirement_grace = std::chrono::milliseconds(*options.retirement_grace_ms);
  }
  session_options.on_channel_closed = [&loop] { loop.stop(); };
  if (in_guest) {
    session_options.power_off = [] { power_off_guest(); };
  } else {
    session_options.power_off = [&loop] { loop.stop(); };
  }
  AgentSession session(loop, reaper, std::move(channel_fd), std::move(session_options));
  loop.run();
  return 0;
}

// A worker (see worker_table.h): take on its credentials before serving
// anything, and never outlive the main agent.
int serve_as_worker(const AgentOptions& options) {
  if (!options.connect_fd) {
    log_error("--worker needs --connect-fd (the main agent starts workers)");
    return 2;
  }
  try {
    assume_credentials(options.worker_credentials);
  } catch (const std::system_error& e) {
    log_error(std::string("worker ") + std::to_string(*options.worker_id) + ": " + e.what());
    return 1;
  }
  // After the credential change, which clears it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  set_worker_stamp(*options.worker_id);
  return serve(options, std::nullopt);
}

}  // namespace
}  // namespace provium::agent

int main(int argc, char** argv) {
  using namespace provium::agent;
  const bool is_pid1 = ::getpid() == 1;
  const AgentOptions options = parse_agent_options(argc, argv);
  if (!is_pid1) {
    if (options.show_version) {
      std::printf("provium-agent %s\n", std::string(kAgentVersion).c_str());
      return 0;
    }
    if (options.show_help || !options.error.empty()) {
      if (!options.error.empty()) std::fprintf(stderr, "provium-agent: %s\n", options.error.c_str());
      std::fputs(kAgentUsage, options.error.empty() ? stdout : stderr);
      return options.error.empty() ? 0 : 2;
    }
  }

  int status = 1;
  try {
    std::optional<InitRole> role;
    if (is_pid1) role = prepare_guest_as_init(argc, argv);
    status = options.worker_id && !is_pid1 ? serve_as_worker(options) : serve(options, role);
  } catch (const std::exception& e) {
    log_error(std::string("fatal: ") + e.what());
  }
  // The guest's init must not return (the kernel would panic with a confusing
  // message); the agent is done, so the guest is too.
  if (is_pid1) power_off_guest();
  return status;
}
