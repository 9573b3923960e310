// What each request does: AgentSession::dispatch and the handlers too big to
// sit in its switch. Every failure is thrown (std::system_error naming the
// operation and its subject) and turned into the error response by on_frame.
#include "entropy_pool.h"
#include "agent_session.h"

#include "agent.capnp.h"
#include "file_transfer.h"
#include "guest_clock.h"
#include "hosts_file.h"
#include "nic_config.h"
#include "path_inspection.h"
#include "path_mutation.h"
#include "raw_call.h"
#include "responses.h"
#include "stream_sources.h"
#include "wire_values.h"

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <system_error>

namespace provium::agent {
namespace wire = provium::wire::agent;

namespace {

constexpr mode_t kDefaultFileMode = 0644;

}  // namespace

void AgentSession::dispatch(std::uint64_t id, wire::Request::Reader request) {
  HostSession& host = *host_;
  switch (request.which()) {
    case wire::Request::HELLO:
      handle_hello(id, request.getHello().getProtocolVersion());
      return;
    case wire::Request::PING:
      send(pong_response(id));
      return;
    case wire::Request::RUN:
      start_run(id, request.getRun());
      return;
    case wire::Request::READ_FILE:
      send(data_response(id, read_whole_file(text(request.getReadFile().getPath()), kMaxDataResponseBytes)));
      return;
    case wire::Request::WRITE_FILE: {
      auto write = request.getWriteFile();
      const mode_t mode = write.getMode() == 0 ? kDefaultFileMode : static_cast<mode_t>(write.getMode() & 07777);
      auto data = write.getData();
      write_whole_file(text(write.getPath()), data.begin(), data.size(), mode);
      send(done_response(id));
      return;
    }
    case wire::Request::POWER_OFF:
      begin_power_off(id);
      return;

    case wire::Request::STAT:
      send(stat_response(id, stat_path(text(request.getStat().getPath()))));
      return;
    case wire::Request::LISTDIR:
      send(dir_entries_response(id, list_directory(text(request.getListdir().getPath()))));
      return;
    case wire::Request::MKDIR: {
      auto mkdir = request.getMkdir();
      make_directory(text(mkdir.getPath()), mkdir.getParents(), static_cast<mode_t>(mkdir.getPerm() & 07777));
      send(done_response(id));
      return;
    }
    case wire::Request::UNLINK:
      remove_entry(text(request.getUnlink().getPath()));
      send(done_response(id));
      return;
    case wire::Request::RENAME:
      rename_entry(text(request.getRename().getFrom()), text(request.getRename().getTo()));
      send(done_response(id));
      return;

    case wire::Request::OPEN_FILE: {
      auto open = request.getOpenFile();
      send(handle_response(
          id, host.files.open(text(open.getPath()), open.getMode(), static_cast<mode_t>(open.getPerm() & 07777))));
      return;
    }
    case wire::Request::FILE_READ: {
      auto read = request.getFileRead();
      host.files.read(id, read.getHandle(), read.getMaxBytes(), read.getOffset());
      return;
    }
    case wire::Request::FILE_WRITE: {
      auto write = request.getFileWrite();
      host.files.write(id, write.getHandle(), write.getData(), write.getOffset());
      return;
    }
    case wire::Request::FILE_SEEK: {
      auto seek = request.getFileSeek();
      send(offset_response(id, host.files.seek(seek.getHandle(), seek.getOffset(), whence_of(seek.getWhence()))));
      return;
    }
    case wire::Request::FILE_TELL:
      send(offset_response(id, host.files.tell(request.getFileTell().getHandle())));
      return;
    case wire::Request::FILE_CLOSE:
      host.files.close(request.getFileClose().getHandle());
      send(done_response(id));
      return;

    case wire::Request::SYSCALL:
      send(syscall_response(id, perform_syscall(raw_syscall_from(request.getSyscall()))));
      return;
    case wire::Request::IOCTL:
      send(ioctl_response(id, perform_ioctl(raw_ioctl_from(request.getIoctl()))));
      return;

    case wire::Request::SPAWN:
      start_process(id, request.getSpawn());
      return;
    case wire::Request::PROCESS_WRITE: {
      auto write = request.getProcessWrite();
      host.processes.write_stdin(id, write.getProcess(), bytes_of(write.getData()));
      return;
    }
    case wire::Request::PROCESS_CLOSE_STDIN:
      host.processes.find(request.getProcessCloseStdin().getProcess(), "processCloseStdin").close_stdin();
      send(done_response(id));
      return;
    case wire::Request::PROCESS_SIGNAL: {
      auto signal = request.getProcessSignal();
      host.processes.find(signal.getProcess(), "processSignal").signal(signal.getSignal(), signal.getGroup());
      send(done_response(id));
      return;
    }
    case wire::Request::PROCESS_WAIT: {
      auto wait = request.getProcessWait();
      std::optional<std::chrono::milliseconds> limit;
      if (!wait.getForever()) limit = std::chrono::milliseconds(wait.getTimeoutMs());
      host.processes.find(wait.getProcess(), "processWait").wait(id, limit);
      return;
    }

    case wire::Request::TAIL_FILE:
      start_tail(id, request.getTailFile());
      return;
    case wire::Request::FD_STREAM:
      start_fd_stream(id, request.getFdStream());
      return;
    case wire::Request::READ_FILE_STREAM:
      start_file_stream(id, request.getReadFileStream());
      return;
    case wire::Request::STREAM_CREDIT:
      // A window update: never answered (see agent.capnp).
      host.streams.grant(request.getStreamCredit().getStream(), request.getStreamCredit().getBytes());
      return;
    case wire::Request::STREAM_CLOSE: {
      const std::uint64_t stream = request.getStreamClose().getStream();
      if (!host.streams.close(stream)) {
        throw std::system_error(ENOENT, std::generic_category(),
                                "streamClose: no stream " + std::to_string(stream) + " was opened in this session");
      }
      send(done_response(id));
      return;
    }

    case wire::Request::CLOCK_GET:
      send(clock_response(id, read_clocks()));
      return;
    case wire::Request::CLOCK_SET:
      set_realtime_clock(request.getClockSet().getRealtimeNs());
      send(done_response(id));
      return;

    case wire::Request::SPAWN_WORKER:
      workers("spawnWorker").spawn(id, worker_credentials_from(request.getSpawnWorker()));
      return;
    case wire::Request::CLOSE_WORKER:
      close_worker(id, request.getCloseWorker().getWorker());
      return;

    case wire::Request::CONFIGURE_NIC:
      refuse_in_worker("configureNic");
      configure_nic(nic_settings_from(request.getConfigureNic()));
      send(done_response(id));
      return;
    case wire::Request::ADD_ENTROPY: {
      refuse_in_worker("addEntropy");
      const auto bytes = request.getAddEntropy();
      add_entropy(std::string_view(reinterpret_cast<const char*>(bytes.begin()), bytes.size()));
      send(done_response(id));
      return;
    }
    case wire::Request::SET_HOSTS:
      refuse_in_worker("setHosts");
      write_managed_hosts(options_.hosts_file, hosts_entries_from(request.getSetHosts()));
      send(done_response(id));
      return;
  }
  send(error_response(id, ENOSYS,
                      "unsupported request (union tag " + std::to_string(static_cast<int>(request.which())) +
                          "); agent speaks protocol version " + std::to_string(wire::PROTOCOL_VERSION)));
}

void AgentSession::refuse_in_worker(const char* op) const {
  if (is_worker()) {
    throw std::system_error(ENOTSUP, std::generic_category(),
                            std::string(op) + ": worker " + std::to_string(options_.worker_id) +
                                " cannot configure the guest's network; send it to the main agent (worker 0)");
  }
}

void AgentSession::start_process(std::uint64_t id, wire::SpawnRequest::Reader spawn) {
  auto command = spawn.getCommand();
  if (command.getTimeoutMs() != 0) {
    throw std::system_error(EINVAL, std::generic_category(),
                            "spawn: timeoutMs must be 0; a spawned process has no deadline (give processWait one)");
  }
  const StartedProcess started = host_->processes.spawn(spawn_request_from(command), bytes_of(command.getStdin()),
                                                        spawn.getInitialCredit());
  send(process_started_response(id, started.process, started.pid, started.stdout_stream, started.stderr_stream));
}

void AgentSession::start_tail(std::uint64_t id, wire::TailFileRequest::Reader tail) {
  StreamSource source = open_tail_source(text(tail.getPath()), tail.getOrigin(), tail.getOffset());
  const std::uint64_t stream = host_->streams.open(std::move(source.fd), true, tail.getInitialCredit());
  send(stream_started_response(id, stream, source.start_offset, source.size));
}

void AgentSession::start_fd_stream(std::uint64_t id, wire::FdStreamRequest::Reader request) {
  StreamSource source = describe_open_source(host_->files.duplicate(request.getHandle()));
  const std::uint64_t stream =
      host_->streams.open(std::move(source.fd), request.getFollow(), request.getInitialCredit());
  send(stream_started_response(id, stream, source.start_offset, source.size));
}

void AgentSession::start_file_stream(std::uint64_t id, wire::ReadFileStreamRequest::Reader request) {
  StreamSource source = open_file_source(text(request.getPath()));
  const std::uint64_t stream = host_->streams.open(std::move(source.fd), false, request.getInitialCredit());
  send(stream_started_response(id, stream, 0, source.size));
}

void AgentSession::close_worker(std::uint64_t id, std::uint32_t worker) {
  const std::uint64_t epoch = connection_epoch_;
  workers("closeWorker").close(worker, [this, id, epoch] {
    if (epoch == connection_epoch_) send(done_response(id));
  });
}

WorkerTable& AgentSession::workers(const char* op) {
  if (!host_->workers) {
    throw std::system_error(ENOTSUP, std::generic_category(),
                            std::string(op) + ": worker " + std::to_string(options_.worker_id) +
                                " cannot have workers of its own");
  }
  return *host_->workers;
}

}  // namespace provium::agent
