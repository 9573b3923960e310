#include "agent_session.h"

#include "agent.capnp.h"
#include "file_transfer.h"
#include "frame.h"
#include "log.h"
#include "responses.h"
#include "wire_values.h"

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
                   .on_room = [this] { on_room(); },
               }),
      retirement_(loop, reaper, options_.retirement_grace),
      power_off_deadline_(loop) {
  start_host_session();
}

void AgentSession::start_host_session() {
  // Drop the old session first: its processes die and its workers are told to
  // stop before anything of the next one exists.
  host_.reset();
  auto send_to_host = [this](OutboundFrame frame) { send(std::move(frame)); };
  host_ = std::make_unique<HostSession>(loop_, reaper_, retirement_, channel_, send_to_host, !is_worker());
}

void AgentSession::on_room() {
  host_->streams.resume_all();
  if (host_->workers) host_->workers->resume_all();
}

void AgentSession::send(OutboundFrame frame) { channel_.send(std::move(frame)); }

void AgentSession::on_garbage(const std::string& reason) {
  send(error_response(0, 0, "bad frame from host (" + reason + "); buffered input dropped"));
}

void AgentSession::on_disconnected() {
  ++connection_epoch_;
  // Not now: a write deep inside a stream or a worker link may have noticed
  // the loss, and their callbacks are still on the stack.
  loop_.defer([this] { start_host_session(); });
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
  bool answered = true;  // streamCredit never is, not even with an error
  try {
    std::uint32_t worker = 0;
    {
      capnp::FlatArrayMessageReader message(body, frame::reader_options());
      auto request = message.getRoot<wire::Request>();
      id = request.getId();
      answered = request.which() != wire::Request::STREAM_CREDIT;
      // In a worker the field only says how the request got here.
      worker = is_worker() ? 0 : request.getWorker();
      if (worker == 0) {
        dispatch(id, request);
        return;
      }
    }
    // Passed on as it came; the reader above is gone, the body is not.
    workers("request for a worker").forward(worker, id, answered, std::move(body));
  } catch (const std::system_error& e) {
    if (answered) send(error_response(id, e.code().value(), e.what()));
  } catch (const kj::Exception& e) {
    // Malformed Cap'n Proto (bad pointers, limits): answer and keep serving.
    send(error_response(id, 0, std::string("malformed request: ") + e.getDescription().cStr()));
  } catch (const std::exception& e) {
    if (answered) send(error_response(id, 0, std::string("request failed: ") + e.what()));
  }
}

void AgentSession::handle_hello(std::uint64_t id, std::uint32_t host_version) {
  // A hello starts a host session. A virtio host that detaches and re-attaches
  // quickly may never show the agent a hang-up, so this is where results meant
  // for the previous host are cut off.
  ++connection_epoch_;
  channel_.drop_unstarted_frames();
  start_host_session();
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
  if (is_worker()) {
    throw std::system_error(ENOTSUP, std::generic_category(),
                            "powerOff: worker " + std::to_string(options_.worker_id) +
                                " cannot power the guest off; send it to the main agent (worker 0)");
  }
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
