// A minimal QMP (QEMU Machine Protocol) client on a unix socketpair:
// handshake, then one command at a time. Events are skipped. A command can
// carry a file descriptor (getfd), as QMP takes them: SCM_RIGHTS on the
// command's own bytes.
#pragma once

#include <string>

#include <kj/async-io.h>
#include <nlohmann/json.hpp>

namespace provium {

class QmpClient {
 public:
  explicit QmpClient(kj::Own<kj::AsyncCapabilityStream> stream);

  // Reads the greeting and leaves capability negotiation mode.
  kj::Promise<void> handshake();
  // Sends `command` ("quit", "query-status", ...) and resolves with its
  // "return" value; a QMP error or EOF rejects the promise.
  // Not reentrant: the caller issues one command at a time.
  kj::Promise<nlohmann::json> execute(const std::string& command,
                                      const nlohmann::json& arguments = nlohmann::json::object());
  // As execute(), passing `fd` along with the command (for getfd).
  kj::Promise<nlohmann::json> execute_with_fd(const std::string& command, const nlohmann::json& arguments, int fd);
  // Sends `command` without waiting for the reply.
  kj::Promise<void> send(const std::string& command, const nlohmann::json& arguments = nlohmann::json::object());

 private:
  kj::Promise<nlohmann::json> next_reply();
  kj::Promise<std::string> read_line();

  kj::Own<kj::AsyncCapabilityStream> stream_;
  std::string pending_;  // bytes read past the last complete line
  kj::Array<kj::byte> chunk_;
};

}  // namespace provium
