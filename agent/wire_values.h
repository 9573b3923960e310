// Request fields turned into the agent's own types, with the checks that
// belong to the wire format (argument counts, names that cannot be valid).
// Failures throw std::system_error (EINVAL) saying which field is wrong.
#pragma once

#include "agent.capnp.h"
#include "hosts_file.h"
#include "nic_config.h"
#include "process_spawn.h"
#include "raw_call.h"
#include "worker_credentials.h"

#include <capnp/blob.h>

#include <cstddef>
#include <string>
#include <vector>

namespace provium::agent {

std::string text(capnp::Text::Reader value);
std::vector<std::byte> bytes_of(capnp::Data::Reader data);

SpawnRequest spawn_request_from(provium::wire::agent::RunRequest::Reader run);
RawSyscall raw_syscall_from(provium::wire::agent::SyscallRequest::Reader request);
RawIoctl raw_ioctl_from(provium::wire::agent::IoctlRequest::Reader request);
WorkerCredentials worker_credentials_from(provium::wire::agent::SpawnWorkerRequest::Reader request);
NicSettings nic_settings_from(provium::wire::agent::ConfigureNicRequest::Reader request);
std::vector<HostsEntry> hosts_entries_from(provium::wire::agent::SetHostsRequest::Reader request);
int whence_of(provium::wire::agent::SeekWhence whence);

}  // namespace provium::agent
