// Builders for every Response the agent sends, each ready to queue on the
// channel. Sizes are bounded so no builder produces a frame above
// frame::kMaxFrameBytes.
#pragma once

#include "agent.capnp.h"
#include "command_run.h"
#include "guest_clock.h"
#include "outbound_frame.h"
#include "path_inspection.h"
#include "raw_call.h"

#include <capnp/message.h>
#include <capnp/orphan.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace provium::agent {

// Largest payload a `data` response may carry, leaving room for the envelope.
inline constexpr std::size_t kMaxDataResponseBytes = (64u << 20) - 4096;

// A worker agent names itself in every frame it sends (Response.worker); set
// once at startup, before the first frame is built. 0, the default, is the
// main agent.
void set_worker_stamp(std::uint32_t worker);

OutboundFrame error_response(std::uint64_t id, int error_number, std::string_view message);
OutboundFrame hello_ok_response(std::uint64_t id);
OutboundFrame pong_response(std::uint64_t id);
OutboundFrame done_response(std::uint64_t id);
OutboundFrame data_response(std::uint64_t id, const std::vector<std::byte>& data);
// Notes any discarded output at the end of stderr.
OutboundFrame run_response(std::uint64_t id, RunOutcome outcome);
OutboundFrame stat_response(std::uint64_t id, const PathStat& stat);
OutboundFrame dir_entries_response(std::uint64_t id, const std::vector<DirectoryEntry>& entries);
OutboundFrame handle_response(std::uint64_t id, std::uint64_t handle);
OutboundFrame written_response(std::uint64_t id, std::uint64_t bytes);
OutboundFrame offset_response(std::uint64_t id, std::uint64_t offset);
OutboundFrame syscall_response(std::uint64_t id, const RawCallResult& result);
OutboundFrame ioctl_response(std::uint64_t id, const RawCallResult& result);
OutboundFrame process_started_response(std::uint64_t id, std::uint64_t process, int pid, std::uint64_t stdout_stream,
                                       std::uint64_t stderr_stream);
// `wait_status` as from waitpid(); nullopt: still running.
OutboundFrame process_state_response(std::uint64_t id, std::optional<int> wait_status);
OutboundFrame stream_started_response(std::uint64_t id, std::uint64_t stream, std::uint64_t start_offset,
                                      std::uint64_t size);
OutboundFrame clock_response(std::uint64_t id, const ClockReadings& clocks);
OutboundFrame worker_started_response(std::uint64_t id, std::uint32_t worker, int pid);
OutboundFrame stream_data_event(std::uint64_t stream, const std::byte* data, std::size_t size, bool after_truncation);
OutboundFrame stream_end_event(std::uint64_t stream, wire::agent::StreamEndReason reason, int error_number,
                               std::string_view message);

// A `data` response whose payload is filled in place (read(2) straight into
// the message) and then cut to the bytes produced, so reads of up to a frame
// are not copied a second time. The whole capacity stays allocated until the
// frame is written, so size it to what the read can return.
class InPlaceDataFrame {
 public:
  static InPlaceDataFrame data_response(std::uint64_t id, std::size_t capacity);

  std::byte* buffer() { return reinterpret_cast<std::byte*>(payload_.get().begin()); }
  std::size_t capacity() const { return capacity_; }
  // `used` <= capacity(). The builder is spent afterwards.
  OutboundFrame finish(std::size_t used);

 private:
  InPlaceDataFrame(std::unique_ptr<capnp::MallocMessageBuilder> message, std::size_t capacity);

  std::unique_ptr<capnp::MallocMessageBuilder> message_;
  std::size_t capacity_;
  capnp::Orphan<capnp::Data> payload_;
};

}  // namespace provium::agent
