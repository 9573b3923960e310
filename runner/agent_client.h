// One connection to a guest agent (ipc/agent.capnp over ipc/frame.h framing).
//
// Calls are blocking and bounded by a deadline (poll(2) on the fd), which
// suits the single-threaded Lua runner. Every request carries a fresh id and
// the client waits for the response with that id; responses with other ids
// (late answers to calls that already timed out) are dropped, so concurrent
// calls can be added later without changing the wire.
#pragma once

#include "deadline.h"
#include "guest_command.h"

#include <frame.h>

#include <kj/io.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace provium::runner {

class AgentError : public std::runtime_error {
 public:
  enum class Kind {
    closed,     // EOF or reset: the guest (or its agent) is gone
    protocol,   // garbage on the channel: it cannot be trusted any more
    timeout,    // the deadline passed before the answer came
    remote,     // the agent answered with an Error
  };
  AgentError(Kind kind, const std::string& message, int remote_errno = 0)
      : std::runtime_error(message), kind_(kind), remote_errno_(remote_errno) {}
  Kind kind() const { return kind_; }
  int remote_errno() const { return remote_errno_; }

 private:
  Kind kind_;
  int remote_errno_;
};

struct AgentHello {
  std::uint32_t protocol_version = 0;
  std::string agent_version;
  std::string guest_os;
  std::vector<std::string> features;
};

class AgentClient {
 public:
  // Takes ownership of the connected fd (made non-blocking here).
  explicit AgentClient(kj::AutoCloseFd fd);

  // Each throws AgentError. After a closed/protocol error the client is
  // broken and every later call fails the same way at once.
  AgentHello hello(std::uint32_t protocol_version, Deadline deadline);
  void ping(Deadline deadline);
  CommandResult run(const GuestCommand& command, Deadline deadline);
  std::string read_file(const std::string& path, Deadline deadline);
  void write_file(const std::string& path, std::string_view data, std::uint32_t mode, Deadline deadline);

 private:
  class Reply;

  void send_request(capnp::MallocMessageBuilder& message, Deadline deadline);
  std::uint64_t take_id() { return next_id_++; }
  std::unique_ptr<Reply> await_reply(std::uint64_t id, const char* op, Deadline deadline);
  // Runs `extract` on a reply; malformed content breaks the client.
  template <typename Extract>
  auto decode_reply(const char* op, Extract&& extract);
  void write_bytes(const std::vector<std::byte>& bytes, Deadline deadline);
  void read_more(Deadline deadline);
  [[noreturn]] void break_with(AgentError::Kind kind, const std::string& message);
  void throw_if_broken() const;

  kj::AutoCloseFd fd_;
  frame::Decoder decoder_;
  std::uint64_t next_id_ = 1;
  bool broken_ = false;
  AgentError::Kind broken_kind_ = AgentError::Kind::closed;
  std::string broken_reason_;
};

}  // namespace provium::runner
