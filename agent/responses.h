// Builders for every Response the agent sends, each ready to queue on the
// channel. Sizes are bounded so no builder produces a frame above
// frame::kMaxFrameBytes.
#pragma once

#include "command_run.h"
#include "outbound_frame.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace provium::agent {

// Largest payload a `data` response may carry, leaving room for the envelope.
inline constexpr std::size_t kMaxDataResponseBytes = (64u << 20) - 4096;

OutboundFrame error_response(std::uint64_t id, int error_number, std::string_view message);
OutboundFrame hello_ok_response(std::uint64_t id);
OutboundFrame pong_response(std::uint64_t id);
OutboundFrame done_response(std::uint64_t id);
OutboundFrame data_response(std::uint64_t id, const std::vector<std::byte>& data);
// Notes any discarded output at the end of stderr.
OutboundFrame run_response(std::uint64_t id, RunOutcome outcome);

}  // namespace provium::agent
