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
#include <optional>
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

// One stream's bytes as received, with its end.
struct StreamCapture {
  std::string data;
  bool ended = false;
  wire::StreamEndReason reason = wire::StreamEndReason::SOURCE_ENDED;
  int error_number = 0;
  std::string message;
  bool saw_truncation = false;
};

class AgentTestClient {
 public:
  explicit AgentTestClient(int fd) : fd_(fd) {}

  // Requests sent from now on are addressed to this worker (0: the main agent).
  std::uint32_t worker = 0;

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
  Response run(const RunSpec& spec, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    return wait(send_run(spec), limit);
  }
  Response read_file(const std::string& path);
  Response write_file(const std::string& path, const std::string& data, std::uint32_t mode = 0);
  Response power_off();
  Response call(const std::function<void(wire::Request::Builder)>& fill) { return wait(send(fill)); }

  Response stat(const std::string& path);
  Response listdir(const std::string& path);
  Response mkdir(const std::string& path, bool parents, std::optional<std::uint32_t> perm = std::nullopt);
  Response unlink(const std::string& path);
  Response rename(const std::string& from, const std::string& to);
  Response open_file(const std::string& path, std::uint32_t mode, std::optional<std::uint32_t> perm = std::nullopt);
  std::uint64_t send_file_read(std::uint64_t handle, std::uint32_t max_bytes, std::int64_t offset = -1);
  Response file_read(std::uint64_t handle, std::uint32_t max_bytes, std::int64_t offset = -1) {
    return wait(send_file_read(handle, max_bytes, offset));
  }
  Response file_write(std::uint64_t handle, const std::string& data, std::int64_t offset = -1);
  Response file_seek(std::uint64_t handle, std::int64_t offset, wire::SeekWhence whence);
  Response file_tell(std::uint64_t handle);
  Response file_close(std::uint64_t handle);
  Response spawn(const RunSpec& spec, std::uint64_t initial_credit);
  Response process_write(std::uint64_t process, const std::string& data);
  Response process_close_stdin(std::uint64_t process);
  Response process_signal(std::uint64_t process, int signal, bool group = false);
  // nullopt: wait forever.
  Response process_wait(std::uint64_t process, std::optional<std::uint64_t> timeout_ms);
  Response tail_file(const std::string& path, wire::TailOrigin origin, std::int64_t offset, std::uint64_t credit);
  Response fd_stream(std::uint64_t handle, bool follow, std::uint64_t credit);
  Response read_file_stream(const std::string& path, std::uint64_t credit);
  void stream_credit(std::uint64_t stream, std::uint64_t bytes);
  Response stream_close(std::uint64_t stream);
  Response clock_get();
  Response clock_set(std::int64_t realtime_ns);
  Response spawn_worker(std::uint32_t uid, std::uint32_t gid, const std::vector<std::uint32_t>& groups = {});
  Response close_worker(std::uint32_t worker);

  // The next event frame (others stay queued for wait()); nullopt on timeout.
  std::optional<Response> next_event(std::chrono::milliseconds limit);
  // Reads `stream` to its streamEnd, granting `window` bytes of credit at a
  // time as data is consumed (on top of what was granted when it opened,
  // `initial`), and checks that the agent never sends beyond what was granted.
  StreamCapture read_stream(std::uint64_t stream, std::uint64_t initial, std::uint64_t window,
                            std::chrono::milliseconds limit = std::chrono::seconds(60));
  // The next data event of `stream` ("" if it ended, or nothing came within
  // `limit`); events of other streams are kept in other_streams.
  std::string next_data(std::uint64_t stream, std::chrono::milliseconds limit = std::chrono::seconds(60),
                        bool* truncated = nullptr);
  // Events of other streams seen while reading one, kept for later.
  std::map<std::uint64_t, StreamCapture> other_streams;

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
