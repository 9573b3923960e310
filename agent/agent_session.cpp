#include "agent_session.h"

#include "agent.capnp.h"
#include "file_transfer.h"
#include "frame.h"
#include "log.h"
#include "process_spawn.h"
#include "responses.h"

#include <capnp/serialize.h>
#include <kj/exception.h>
#include <unistd.h>

#include <chrono>
#include <exception>
#include <string>
#include <system_error>

namespace provium::agent {
namespace wire = provium::wire::agent;

namespace {

// How long a powerOff waits for its `done` to reach a host that stopped reading.
constexpr std::chrono::milliseconds kPowerOffFlushLimit{2000};
constexpr mode_t kDefaultFileMode = 0644;

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
      throw std::system_error(EINVAL, std::generic_category(), "run: bad environment variable name `" + name + "`");
    }
    overrides.push_back(name + "=" + text(variable.getValue()));
  }
  request.environment = merge_environment(environ, run.getEnvClear(), overrides);
  request.cwd = text(run.getCwd());
  return request;
}

}  // namespace

AgentSession::AgentSession(EventLoop& loop, ChildReaper& reaper, UniqueFd channel_fd, Options options)
    : loop_(loop),
      reaper_(reaper),
      options_(std::move(options)),
      channel_(loop, std::move(channel_fd), options_.channel_kind,
               FrameChannel::Handlers{
                   .on_frame = [this](kj::Array<capnp::word> body) { on_frame(std::move(body)); },
                   .on_garbage = [this](const std::string& reason) { on_garbage(reason); },
                   .on_disconnected = [this] { on_disconnected(); },
                   .on_connected = nullptr,
                   .on_drained =
                       [this] {
                         if (powering_off_) complete_power_off();
                       },
               }),
      power_off_deadline_(loop) {}

void AgentSession::send(OutboundFrame frame) { channel_.send(std::move(frame)); }

void AgentSession::on_garbage(const std::string& reason) {
  send(error_response(0, 0, "bad frame from host (" + reason + "); buffered input dropped"));
}

void AgentSession::on_disconnected() {
  ++connection_epoch_;
  if (powering_off_) {
    complete_power_off();
    return;
  }
  if (options_.channel_kind == FrameChannel::Kind::kSocket && options_.on_channel_closed) {
    options_.on_channel_closed();
  }
}

void AgentSession::on_frame(kj::Array<capnp::word> body) {
  std::uint64_t id = 0;
  try {
    capnp::FlatArrayMessageReader message(body, frame::reader_options());
    auto request = message.getRoot<wire::Request>();
    id = request.getId();
    dispatch(id, request);
  } catch (const std::system_error& e) {
    send(error_response(id, e.code().value(), e.what()));
  } catch (const kj::Exception& e) {
    // Malformed Cap'n Proto (bad pointers, limits): answer and keep serving.
    send(error_response(id, 0, std::string("malformed request: ") + e.getDescription().cStr()));
  } catch (const std::exception& e) {
    send(error_response(id, 0, std::string("request failed: ") + e.what()));
  }
}

void AgentSession::dispatch(std::uint64_t id, wire::Request::Reader request) {
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
  }
  send(error_response(id, ENOSYS,
                      "unsupported request (union tag " + std::to_string(static_cast<int>(request.which())) +
                          "); agent speaks protocol version " + std::to_string(wire::PROTOCOL_VERSION)));
}

void AgentSession::handle_hello(std::uint64_t id, std::uint32_t host_version) {
  // A hello starts a host session. A virtio host that detaches and re-attaches
  // quickly may never show the agent a hang-up, so this is where results meant
  // for the previous host are cut off.
  ++connection_epoch_;
  channel_.drop_unstarted_frames();
  if (host_version != wire::PROTOCOL_VERSION) {
    send(error_response(id, 0,
                        "protocol mismatch: host speaks version " + std::to_string(host_version) +
                            ", agent speaks version " + std::to_string(wire::PROTOCOL_VERSION)));
    return;
  }
  send(hello_ok_response(id));
}

void AgentSession::start_run(std::uint64_t id, wire::RunRequest::Reader run) {
  const std::uint64_t serial = next_run_serial_++;
  const std::uint64_t epoch = connection_epoch_;
  auto on_finished = [this, id, serial, epoch](RunOutcome outcome) {
    if (epoch == connection_epoch_) {
      try {
        send(run_response(id, std::move(outcome)));
      } catch (const std::exception& e) {
        send(error_response(id, 0, std::string("run: cannot send result: ") + e.what()));
      }
    }
    // Destroy the run after its own callback has returned.
    loop_.defer([this, serial] { runs_.erase(serial); });
  };
  runs_.emplace(serial, std::make_unique<CommandRun>(loop_, reaper_, spawn_request_from(run), bytes_of(run.getStdin()),
                                                     std::chrono::milliseconds(run.getTimeoutMs()),
                                                     std::move(on_finished)));
}

void AgentSession::begin_power_off(std::uint64_t id) {
  if (powering_off_) {
    send(done_response(id));
    return;
  }
  powering_off_ = true;
  if (!channel_.connected()) {
    complete_power_off();  // nobody to tell
    return;
  }
  power_off_deadline_.arm(kPowerOffFlushLimit, [this] { complete_power_off(); });
  send(done_response(id));  // may drain at once and complete the power-off
}

void AgentSession::complete_power_off() {
  // Called from the channel's callbacks; act once, after they return.
  if (!options_.power_off) return;
  auto power_off = std::exchange(options_.power_off, nullptr);
  loop_.defer(std::move(power_off));
}

}  // namespace provium::agent
