// A minimal blocking host-side client for the agent protocol, for tests: sends
// requests over a stream fd and waits for the response with a given id,
// keeping any other responses that arrive first.
#pragma once

#include "agent.capnp.h"
#include "frame.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/io.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace provium::agent_test {

namespace wire = provium::wire::agent;

// An owned, decoded response.
class Response {
 public:
  explicit Response(kj::Array<capnp::word> body)
      : body_(kj::mv(body)),
        reader_(std::make_unique<capnp::FlatArrayMessageReader>(body_, provium::frame::reader_options())),
        root_(reader_->getRoot<wire::Response>()) {}
  wire::Response::Reader get() const { return root_; }
  const wire::Response::Reader* operator->() const { return &root_; }

  std::string stdout_text() const;
  std::string stderr_text() const;

 private:
  kj::Array<capnp::word> body_;
  std::unique_ptr<capnp::FlatArrayMessageReader> reader_;
  wire::Response::Reader root_;
};

struct RunSpec {
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;
  bool env_clear = false;
  std::string cwd;
  std::string stdin_data;
  std::uint64_t timeout_ms = 0;
};

class AgentTestClient {
 public:
  explicit AgentTestClient(int fd) : fd_(fd) {}

  // Sends a request built by `fill` with a fresh id; returns the id.
  std::uint64_t send(const std::function<void(wire::Request::Builder)>& fill);
  void send_raw(const void* data, std::size_t size);
  // Waits up to `limit` for the response to `id`.
  Response wait(std::uint64_t id, std::chrono::milliseconds limit = std::chrono::seconds(20));
  // Next response in arrival order.
  Response next(std::chrono::milliseconds limit = std::chrono::seconds(20));

  Response hello(std::uint32_t version = wire::PROTOCOL_VERSION);
  Response ping();
  std::uint64_t send_run(const RunSpec& spec);
  Response run(const RunSpec& spec) { return wait(send_run(spec)); }
  Response read_file(const std::string& path);
  Response write_file(const std::string& path, const std::string& data, std::uint32_t mode = 0);
  Response power_off();

  // True once the agent closed its end.
  bool at_eof(std::chrono::milliseconds limit);

 private:
  bool pump(std::chrono::steady_clock::time_point deadline);

  int fd_;
  std::uint64_t next_id_ = 1;
  provium::frame::Decoder decoder_;
  std::vector<Response> pending_;
  bool eof_ = false;
};

}  // namespace provium::agent_test
