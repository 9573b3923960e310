#include "wire_values.h"

#include <algorithm>

#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace provium::agent {
namespace wire = provium::wire::agent;

namespace {

[[noreturn]] void invalid(const std::string& what) {
  throw std::system_error(EINVAL, std::generic_category(), what);
}

std::vector<std::vector<std::byte>> buffers_of(capnp::List<capnp::Data>::Reader list) {
  std::vector<std::vector<std::byte>> buffers;
  buffers.reserve(list.size());
  for (auto buffer : list) buffers.push_back(bytes_of(buffer));
  return buffers;
}

}  // namespace

std::string text(capnp::Text::Reader value) { return std::string(value.cStr(), value.size()); }

std::vector<std::byte> bytes_of(capnp::Data::Reader data) {
  auto begin = reinterpret_cast<const std::byte*>(data.begin());
  return std::vector<std::byte>(begin, begin + data.size());
}

SpawnRequest spawn_request_from(wire::RunRequest::Reader run) {
  SpawnRequest request;
  for (auto arg : run.getArgv()) request.argv.push_back(text(arg));
  std::vector<std::string> overrides;
  for (auto variable : run.getEnv()) {
    const std::string name = text(variable.getName());
    if (name.empty() || name.find('=') != std::string::npos) {
      invalid("run: bad environment variable name `" + name + "`");
    }
    overrides.push_back(name + "=" + text(variable.getValue()));
  }
  request.environment = merge_environment(environ, run.getEnvClear(), overrides);
  request.cwd = text(run.getCwd());
  return request;
}

RawSyscall raw_syscall_from(wire::SyscallRequest::Reader request) {
  RawSyscall call;
  call.nr = request.getNr();
  auto args = request.getArgs();
  if (args.size() > kSyscallArgCount) {
    invalid("syscall: " + std::to_string(args.size()) + " args; a system call takes at most 6");
  }
  for (unsigned i = 0; i < args.size(); ++i) call.args[i] = args[i];
  call.bufs = buffers_of(request.getBufs());
  for (auto slot : request.getPtrs()) call.ptrs.push_back(slot);
  return call;
}

RawIoctl raw_ioctl_from(wire::IoctlRequest::Reader request) {
  RawIoctl call;
  call.fd = request.getFd();
  call.cmd = request.getCmd();
  call.arg = request.getArg();
  if (request.hasData()) call.data = bytes_of(request.getData());
  call.bufs = buffers_of(request.getBufs());
  for (auto offset : request.getPtrOffsets()) call.ptr_offsets.push_back(offset);
  return call;
}

WorkerCredentials worker_credentials_from(wire::SpawnWorkerRequest::Reader request) {
  WorkerCredentials credentials;
  credentials.uid = request.getUid();
  credentials.gid = request.getGid();
  // NGROUPS_MAX is 65536 on Linux; refuse more before setgroups does.
  constexpr unsigned kMaxGroups = 65536;
  if (request.getGroups().size() > kMaxGroups) invalid("spawnWorker: more than 65536 groups");
  for (auto group : request.getGroups()) credentials.groups.push_back(group);
  return credentials;
}

NicSettings nic_settings_from(wire::ConfigureNicRequest::Reader request) {
  NicSettings settings;
  const auto mac = request.getMac();
  if (mac.size() != settings.mac.size()) {
    invalid("configureNic: mac must be 6 bytes, got " + std::to_string(mac.size()));
  }
  std::copy(mac.begin(), mac.end(), settings.mac.begin());
  for (auto address : request.getAddresses()) settings.ipv4_addresses.push_back(text(address));
  settings.up = request.getUp();
  const auto previous = request.getPreviousMac();
  if (previous.size() != 0) {
    if (previous.size() != settings.mac.size()) {
      invalid("configureNic: previousMac must be empty or 6 bytes, got " + std::to_string(previous.size()));
    }
    settings.previous_mac.emplace();
    std::copy(previous.begin(), previous.end(), settings.previous_mac->begin());
  }
  return settings;
}

std::vector<HostsEntry> hosts_entries_from(wire::SetHostsRequest::Reader request) {
  std::vector<HostsEntry> entries;
  for (auto entry : request.getEntries()) {
    HostsEntry converted{.address = text(entry.getAddress()), .names = {}};
    for (auto name : entry.getNames()) converted.names.push_back(text(name));
    entries.push_back(std::move(converted));
  }
  return entries;
}

int whence_of(wire::SeekWhence whence) {
  switch (whence) {
    case wire::SeekWhence::SET: return SEEK_SET;
    case wire::SeekWhence::CUR: return SEEK_CUR;
    case wire::SeekWhence::END: return SEEK_END;
  }
  invalid("fileSeek: unknown whence " + std::to_string(static_cast<int>(whence)));
}

}  // namespace provium::agent
