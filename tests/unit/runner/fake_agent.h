// A scripted stand-in for the guest agent, serving ipc/agent.capnp frames on
// one end of a socketpair from its own thread. Unit tests only.
#pragma once

#include <agent.capnp.h>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <kj/io.h>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace provium::runner::testing {

enum class AgentMisbehaviour {
  none,
  silent,                  // reads requests, never answers
  close_after_hello,       // answers hello, then hangs up
  garbage_after_hello,     // answers hello, then sends bytes that are no frame
  stray_reply_first,       // before each answer, an answer with an unknown id
  wrong_variant,           // answers run with `done`
  old_protocol,            // helloOk with protocol version 0
};

struct FakeRun {
  wire::agent::RunStatus status = wire::agent::RunStatus::EXITED;
  std::int32_t exit_code = 0;
  std::int32_t signal = 0;
  std::string stdout_data;
  std::string stderr_data;
};

struct SeenRun {
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;
  bool env_clear = false;
  std::string cwd;
  std::string stdin_data;
  std::uint64_t timeout_ms = 0;
};

class FakeAgent {
 public:
  using RunHandler = std::function<FakeRun(const SeenRun&)>;

  // Serves `fd` until the peer hangs up or the agent is destroyed.
  explicit FakeAgent(kj::AutoCloseFd fd, AgentMisbehaviour misbehaviour = AgentMisbehaviour::none,
                     RunHandler on_run = {});
  ~FakeAgent();
  FakeAgent(const FakeAgent&) = delete;
  FakeAgent& operator=(const FakeAgent&) = delete;

  std::vector<SeenRun> runs() const;
  std::map<std::string, std::string> files() const;
  void put_file(const std::string& path, const std::string& content);
  std::map<std::string, std::uint32_t> dirs() const;
  // The bytes of every addEntropy, in order.
  std::vector<std::string> entropy() const;
  // Total streamCredit bytes granted so far, over all streams.
  std::uint64_t credit_granted() const;
  std::size_t open_handles() const;
  // Chunk size of the fake's stream data events.
  static constexpr std::size_t kStreamChunk = 1000;

  // The default run handler: "sh -c 'exit N'" exits N, "sh -c 'echo X'"
  // prints X, "sh -c 'kill'" is signalled with SIGKILL; argv forms echo argv.
  static FakeRun default_run(const SeenRun& run);

 private:
  void serve();
  void answer(capnp::FlatArrayMessageReader& request);
  void send(capnp::MallocMessageBuilder& message);
  // readFileStream: what is left to send and the credit left to send it with.
  struct FakeStream {
    std::string pending;
    std::uint64_t credit = 0;
    bool follow = false;  // a tail: never ends by itself
  };
  void pump_stream(std::uint64_t id);
  // spawn: a process "exits" once its output has been sent (so a client
  // that never grants credit never sees the exit), with its run handler's result.
  struct FakeProcess {
    FakeRun result;
    std::uint64_t stdout_stream = 0;
    std::uint64_t stderr_stream = 0;
    std::vector<std::uint64_t> waits;  // processWait ids to answer at the exit
  };
  bool exited(const FakeProcess& process) const;
  void send_process_state(std::uint64_t id, const FakeProcess* exited);
  void answer_exited_waits();
  void send_stream_data(std::uint64_t id, const std::string& data);

  kj::AutoCloseFd fd_;
  AgentMisbehaviour misbehaviour_;
  RunHandler on_run_;
  mutable std::mutex mutex_;
  std::vector<SeenRun> runs_;
  std::map<std::string, std::string> files_;
  std::map<std::string, std::uint32_t> dirs_;  // path -> perm
  std::map<std::uint64_t, FakeStream> streams_;
  struct FakeHandle {
    std::string path;
    std::uint64_t cursor = 0;
  };
  std::map<std::uint64_t, FakeHandle> handles_;
  std::uint64_t next_handle_ = 3;
  std::int64_t clock_ns_ = 1700000000000000000;
  std::vector<std::string> entropy_;
  std::uint64_t next_stream_ = 1;
  std::map<std::uint64_t, FakeProcess> processes_;
  std::uint64_t next_process_ = 1;
  std::uint64_t credit_granted_ = 0;
  std::thread thread_;
};

// A connected pair: the client's end and a FakeAgent serving the other.
struct AgentPair {
  kj::AutoCloseFd client_fd;
  std::unique_ptr<FakeAgent> agent;
};
AgentPair make_agent_pair(AgentMisbehaviour misbehaviour = AgentMisbehaviour::none,
                          FakeAgent::RunHandler on_run = {});

}  // namespace provium::runner::testing
