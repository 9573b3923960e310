#include "responses.h"

#include "agent.capnp.h"
#include "agent_identity.h"
#include "frame.h"

#include <capnp/message.h>

#include <sys/wait.h>

#include <algorithm>
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
// Response.worker of every frame built here (see set_worker_stamp).
std::uint32_t worker_stamp = 0;

std::size_t words_for(std::size_t bytes) { return (bytes + sizeof(capnp::word) - 1) / sizeof(capnp::word); }

// Sized so large payloads land in one segment: one allocation, no slack.
std::unique_ptr<capnp::MallocMessageBuilder> new_message(std::size_t payload_bytes = 0) {
  return std::make_unique<capnp::MallocMessageBuilder>(
      static_cast<unsigned>(kEnvelopeWords + words_for(payload_bytes)));
}

wire::Response::Builder start(capnp::MallocMessageBuilder& message, std::uint64_t id) {
  auto response = message.initRoot<wire::Response>();
  response.setId(id);
  response.setWorker(worker_stamp);
  return response;
}

wire::Event::Builder start_event(capnp::MallocMessageBuilder& message) { return start(message, 0).initEvent(); }

capnp::Data::Reader as_data(const std::vector<std::byte>& bytes) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size());
}

std::size_t total_size(const std::vector<std::vector<std::byte>>& buffers) {
  std::size_t total = 0;
  for (const auto& buffer : buffers) total += buffer.size() + sizeof(capnp::word);
  return total;
}

void set_buffers(capnp::List<capnp::Data>::Builder list, const std::vector<std::vector<std::byte>>& buffers) {
  for (unsigned i = 0; i < buffers.size(); ++i) list.set(i, as_data(buffers[i]));
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

void set_worker_stamp(std::uint32_t worker) { worker_stamp = worker; }

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

OutboundFrame stat_response(std::uint64_t id, const PathStat& stat) {
  auto builder = new_message();
  auto result = start(*builder, id).initStat();
  result.setSize(stat.size);
  result.setMtimeNs(stat.mtime_ns);
  result.setPerm(stat.perm);
  result.setEntryType(stat.entry_type);
  result.setUid(stat.uid);
  result.setGid(stat.gid);
  result.setNlink(stat.nlink);
  result.setInode(stat.inode);
  return OutboundFrame(std::move(builder));
}

OutboundFrame dir_entries_response(std::uint64_t id, const std::vector<DirectoryEntry>& entries) {
  std::size_t text_bytes = 0;
  for (const auto& entry : entries) text_bytes += entry.name.size() + 3 * sizeof(capnp::word);
  auto builder = new_message(text_bytes);
  auto list = start(*builder, id).initDirEntries(static_cast<unsigned>(entries.size()));
  for (unsigned i = 0; i < entries.size(); ++i) {
    list[i].setName(capnp::Text::Reader(entries[i].name.data(), entries[i].name.size()));
    list[i].setEntryType(entries[i].entry_type);
  }
  return OutboundFrame(std::move(builder));
}

OutboundFrame handle_response(std::uint64_t id, std::uint64_t handle) {
  auto builder = new_message();
  start(*builder, id).setHandle(handle);
  return OutboundFrame(std::move(builder));
}

OutboundFrame written_response(std::uint64_t id, std::uint64_t bytes) {
  auto builder = new_message();
  start(*builder, id).setWritten(bytes);
  return OutboundFrame(std::move(builder));
}

OutboundFrame offset_response(std::uint64_t id, std::uint64_t offset) {
  auto builder = new_message();
  start(*builder, id).setOffset(offset);
  return OutboundFrame(std::move(builder));
}

OutboundFrame syscall_response(std::uint64_t id, const RawCallResult& call) {
  auto builder = new_message(total_size(call.out_bufs));
  auto result = start(*builder, id).initSyscall();
  result.setRet(call.ret);
  result.setErrno(call.error_number);
  set_buffers(result.initOutBufs(static_cast<unsigned>(call.out_bufs.size())), call.out_bufs);
  return OutboundFrame(std::move(builder));
}

OutboundFrame ioctl_response(std::uint64_t id, const RawCallResult& call) {
  auto builder = new_message(total_size(call.out_bufs) + call.out_data.size());
  auto result = start(*builder, id).initIoctl();
  result.setRet(call.ret);
  result.setErrno(call.error_number);
  result.setOutData(as_data(call.out_data));
  set_buffers(result.initOutBufs(static_cast<unsigned>(call.out_bufs.size())), call.out_bufs);
  return OutboundFrame(std::move(builder));
}

OutboundFrame process_started_response(std::uint64_t id, std::uint64_t process, int pid, std::uint64_t stdout_stream,
                                       std::uint64_t stderr_stream) {
  auto builder = new_message();
  auto started = start(*builder, id).initProcessStarted();
  started.setProcess(process);
  started.setPid(pid);
  started.setStdoutStream(stdout_stream);
  started.setStderrStream(stderr_stream);
  return OutboundFrame(std::move(builder));
}

OutboundFrame process_state_response(std::uint64_t id, std::optional<int> wait_status) {
  auto builder = new_message();
  auto state = start(*builder, id).initProcessState();
  if (!wait_status) {
    state.setRunning(true);
  } else if (WIFSIGNALED(*wait_status)) {
    state.setStatus(wire::RunStatus::SIGNALLED);
    state.setExitCode(-1);
    state.setSignal(WTERMSIG(*wait_status));
  } else {
    state.setStatus(wire::RunStatus::EXITED);
    state.setExitCode(WEXITSTATUS(*wait_status));
  }
  return OutboundFrame(std::move(builder));
}

OutboundFrame stream_started_response(std::uint64_t id, std::uint64_t stream, std::uint64_t start_offset,
                                      std::uint64_t size) {
  auto builder = new_message();
  auto started = start(*builder, id).initStreamStarted();
  started.setStream(stream);
  started.setStartOffset(start_offset);
  started.setSize(size);
  return OutboundFrame(std::move(builder));
}

OutboundFrame clock_response(std::uint64_t id, const ClockReadings& clocks) {
  auto builder = new_message();
  auto clock = start(*builder, id).initClock();
  clock.setRealtimeNs(clocks.realtime_ns);
  clock.setMonotonicNs(clocks.monotonic_ns);
  return OutboundFrame(std::move(builder));
}

OutboundFrame worker_started_response(std::uint64_t id, std::uint32_t worker, int pid) {
  auto builder = new_message();
  auto started = start(*builder, id).initWorkerStarted();
  started.setWorker(worker);
  started.setPid(pid);
  return OutboundFrame(std::move(builder));
}

OutboundFrame stream_data_event(std::uint64_t stream, const std::byte* data, std::size_t size, bool after_truncation) {
  auto builder = new_message(size);
  auto event = start_event(*builder).initStreamData();
  event.setStream(stream);
  event.setData(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(data), size));
  event.setAfterTruncation(after_truncation);
  return OutboundFrame(std::move(builder));
}

OutboundFrame stream_end_event(std::uint64_t stream, wire::StreamEndReason reason, int error_number,
                               std::string_view message) {
  auto builder = new_message(message.size());
  auto end = start_event(*builder).initStreamEnd();
  end.setStream(stream);
  end.setReason(reason);
  end.setErrno(error_number);
  end.setMessage(capnp::Text::Reader(message.data(), message.size()));
  return OutboundFrame(std::move(builder));
}

InPlaceDataFrame::InPlaceDataFrame(std::unique_ptr<capnp::MallocMessageBuilder> message, std::size_t capacity)
    : message_(std::move(message)), capacity_(capacity) {}

InPlaceDataFrame InPlaceDataFrame::data_response(std::uint64_t id, std::size_t capacity) {
  InPlaceDataFrame frame(new_message(capacity), capacity);
  start(*frame.message_, id);
  // Allocated last, so cutting it back also gives the space back.
  frame.payload_ = frame.message_->getOrphanage().newOrphan<capnp::Data>(static_cast<unsigned>(capacity));
  return frame;
}

OutboundFrame InPlaceDataFrame::finish(std::size_t used) {
  payload_.truncate(static_cast<unsigned>(std::min(used, capacity_)));
  message_->getRoot<wire::Response>().adoptData(kj::mv(payload_));
  return OutboundFrame(std::move(message_));
}

}  // namespace provium::agent
