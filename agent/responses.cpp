#include "responses.h"

#include "agent.capnp.h"
#include "agent_identity.h"
#include "frame.h"

#include <capnp/message.h>

#include <cstring>
#include <memory>
#include <string>

namespace provium::agent {
namespace wire = provium::wire::agent;

static_assert(2 * kCaptureLimitBytes + 4096 <= frame::kMaxFrameBytes,
              "two full output captures plus envelope must fit one frame");
static_assert(kMaxDataResponseBytes + 1024 <= frame::kMaxFrameBytes);

namespace {

constexpr std::size_t kEnvelopeWords = 64;

std::size_t words_for(std::size_t bytes) { return (bytes + sizeof(capnp::word) - 1) / sizeof(capnp::word); }

// Sized so large payloads land in one segment: one allocation, no slack.
std::unique_ptr<capnp::MallocMessageBuilder> new_message(std::size_t payload_bytes = 0) {
  return std::make_unique<capnp::MallocMessageBuilder>(
      static_cast<unsigned>(kEnvelopeWords + words_for(payload_bytes)));
}

wire::Response::Builder start(capnp::MallocMessageBuilder& message, std::uint64_t id) {
  auto response = message.initRoot<wire::Response>();
  response.setId(id);
  return response;
}

kj::ArrayPtr<const kj::byte> as_capnp_bytes(const std::vector<std::byte>& bytes) {
  return kj::arrayPtr(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size());
}

std::string truncation_note(std::string_view stream, std::uint64_t discarded) {
  return "\nprovium-agent: " + std::string(stream) + " truncated: " + std::to_string(discarded) +
         " bytes past the " + std::to_string(kCaptureLimitBytes) + "-byte limit were discarded\n";
}

wire::RunStatus to_wire(RunOutcome::Status status) {
  switch (status) {
    case RunOutcome::Status::kExited: return wire::RunStatus::EXITED;
    case RunOutcome::Status::kSignalled: return wire::RunStatus::SIGNALLED;
    case RunOutcome::Status::kTimedOut: return wire::RunStatus::TIMED_OUT;
  }
  return wire::RunStatus::EXITED;
}

}  // namespace

OutboundFrame error_response(std::uint64_t id, int error_number, std::string_view message) {
  // Messages quote host input (paths, names) that may be huge; keep them readable and small.
  constexpr std::size_t kMaxMessageBytes = 4096;
  std::string clamped(message.substr(0, kMaxMessageBytes));
  if (message.size() > kMaxMessageBytes) clamped += "... (message truncated)";
  message = clamped;
  auto builder = new_message(message.size());
  auto error = start(*builder, id).initError();
  error.setErrno(error_number);
  error.setMessage(kj::StringPtr(std::string(message).c_str()));
  return OutboundFrame(std::move(builder));
}

OutboundFrame hello_ok_response(std::uint64_t id) {
  auto builder = new_message();
  auto hello = start(*builder, id).initHelloOk();
  hello.setProtocolVersion(wire::PROTOCOL_VERSION);
  hello.setAgentVersion(kj::StringPtr(std::string(kAgentVersion).c_str()));
  hello.setGuestOs(kj::StringPtr(std::string(kGuestOs).c_str()));
  auto features = hello.initFeatures(static_cast<unsigned>(kFeatures.size()));
  for (unsigned i = 0; i < kFeatures.size(); ++i) features.set(i, std::string(kFeatures[i]).c_str());
  return OutboundFrame(std::move(builder));
}

OutboundFrame pong_response(std::uint64_t id) {
  auto builder = new_message();
  start(*builder, id).setPong();
  return OutboundFrame(std::move(builder));
}

OutboundFrame done_response(std::uint64_t id) {
  auto builder = new_message();
  start(*builder, id).setDone();
  return OutboundFrame(std::move(builder));
}

OutboundFrame data_response(std::uint64_t id, const std::vector<std::byte>& data) {
  auto builder = new_message(data.size());
  start(*builder, id).setData(as_capnp_bytes(data));
  return OutboundFrame(std::move(builder));
}

OutboundFrame run_response(std::uint64_t id, RunOutcome outcome) {
  std::string notes;
  if (outcome.stdout_discarded > 0) notes += truncation_note("stdout", outcome.stdout_discarded);
  if (outcome.stderr_discarded > 0) notes += truncation_note("stderr", outcome.stderr_discarded);

  auto builder = new_message(outcome.stdout_bytes.size() + outcome.stderr_bytes.size() + notes.size() +
                             2 * sizeof(capnp::word));
  auto result = start(*builder, id).initRun();
  result.setStatus(to_wire(outcome.status));
  result.setExitCode(outcome.exit_code);
  result.setSignal(outcome.signal);
  // Copy each stream into the message and free it at once: peak memory stays
  // near one copy of the output, not two.
  result.setStdout(as_capnp_bytes(outcome.stdout_bytes));
  outcome.stdout_bytes = {};
  auto stderr_data = result.initStderr(static_cast<unsigned>(outcome.stderr_bytes.size() + notes.size()));
  std::memcpy(stderr_data.begin(), outcome.stderr_bytes.data(), outcome.stderr_bytes.size());
  std::memcpy(stderr_data.begin() + outcome.stderr_bytes.size(), notes.data(), notes.size());
  outcome.stderr_bytes = {};
  return OutboundFrame(std::move(builder));
}

}  // namespace provium::agent
