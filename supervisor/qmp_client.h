// A minimal QMP (QEMU Machine Protocol) client on a unix socketpair:
// handshake, then commands, one at a time or several written at once
// (QEMU answers them in order, so a batch costs one round trip). A command
// can carry a file descriptor (getfd), as QMP takes them: SCM_RIGHTS on the
// command's own bytes. Events that arrive while replies are read are kept
// (the last few) for next_event().
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include <kj/async-io.h>
#include <nlohmann/json.hpp>

namespace provium {

struct QmpCommand {
  std::string name;
  nlohmann::json arguments = nlohmann::json::object();
};

class QmpClient {
 public:
  explicit QmpClient(kj::Own<kj::AsyncCapabilityStream> stream);

  // Leaves capability negotiation mode, sending `then` right behind
  // qmp_capabilities without waiting for QEMU's greeting (QEMU reads them
  // once it has greeted), and resolves with their return values in order.
  kj::Promise<std::vector<nlohmann::json>> handshake(std::vector<QmpCommand> then = {});
  // Sends `command` ("quit", "query-status", ...) and resolves with its
  // "return" value; a QMP error or EOF rejects the promise.
  // Not reentrant: the caller issues one command (or batch) at a time.
  kj::Promise<nlohmann::json> execute(const std::string& command,
                                      const nlohmann::json& arguments = nlohmann::json::object());
  // Writes all of `commands` at once, then resolves with their return values
  // in order. A QMP error rejects, once every reply has been read (the later
  // commands still ran).
  kj::Promise<std::vector<nlohmann::json>> execute_all(std::vector<QmpCommand> commands);
  // As execute(), passing `fd` along with the command (for getfd).
  kj::Promise<nlohmann::json> execute_with_fd(const std::string& command, const nlohmann::json& arguments, int fd);
  // Sends `command` without waiting for the reply.
  kj::Promise<void> send(const std::string& command, const nlohmann::json& arguments = nlohmann::json::object());
  // Resolves with the next event named `name` (the whole message, with
  // "data"), taking it from those kept while replies were read if one is
  // there. Call it only while no reply is awaited.
  kj::Promise<nlohmann::json> next_event(const std::string& name);

 private:
  // The next message that is not an event (events are kept), as it came.
  kj::Promise<nlohmann::json> next_reply();
  kj::Promise<nlohmann::json> next_message();
  kj::Promise<void> write_commands(const std::vector<QmpCommand>& commands);
  kj::Promise<std::string> read_line();
  // The next `count` replies, as they came.
  kj::Promise<std::vector<nlohmann::json>> collect_replies(std::size_t count, std::vector<nlohmann::json> so_far);
  void keep_event(nlohmann::json event);

  kj::Own<kj::AsyncCapabilityStream> stream_;
  std::string pending_;  // bytes read past the last complete line
  kj::Array<kj::byte> chunk_;
  std::deque<nlohmann::json> events_;  // read while awaiting replies, oldest first
};

}  // namespace provium
