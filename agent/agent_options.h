// Command-line options. As PID 1 the agent also receives whatever words of the
// kernel command line the kernel did not understand, so unknown arguments are
// ignored there instead of being fatal.
#pragma once

#include "worker_credentials.h"

#include <cstdint>
#include <optional>
#include <string>

namespace provium::agent {

struct AgentOptions {
  // --connect-fd N: the channel is an already-open stream socket (--vmm local,
  // tests); otherwise the virtio-serial port named `port_name` is used.
  std::optional<int> connect_fd;
  std::string port_name = "agent";
  // --worker N (with --worker-uid, --worker-gid, --worker-groups): this
  // process is worker N, started by a main agent (see worker_link.cpp).
  std::optional<std::uint32_t> worker_id;
  WorkerCredentials worker_credentials;
  // --retirement-grace-ms N: how long a closed worker may take to exit by
  // itself before it is killed (tests lengthen it to tell the two apart).
  std::optional<std::uint32_t> retirement_grace_ms;
  // --hosts-file PATH: the file setHosts manages (tests point it elsewhere).
  std::string hosts_file = "/etc/hosts";
  bool show_version = false;
  bool show_help = false;
  std::string error;  // non-empty: the arguments were not understood
};

AgentOptions parse_agent_options(int argc, char** argv);

inline constexpr const char* kAgentUsage =
    "usage: provium-agent [--connect-fd N] [--port-name NAME] [--version]\n"
    "  --connect-fd N     serve the host over the already-open socket N\n"
    "  --port-name NAME   virtio-serial port to use (default: agent)\n"
    "  --worker N --worker-uid U --worker-gid G --worker-groups G1,G2,...\n"
    "                     serve as worker N of a main agent (which starts these)\n"
    "  --hosts-file PATH  the file whose provium block setHosts rewrites (default /etc/hosts)\n"
    "  --retirement-grace-ms N\n"
    "                     a closed worker's time to exit by itself (default 2000)\n";

}  // namespace provium::agent
