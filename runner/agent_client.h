// One connection to a guest agent (ipc/agent.capnp over ipc/frame.h framing).
//
// Calls are blocking and bounded by a deadline (poll(2) on the fd), which
// suits the single-threaded Lua runner. Every request carries a fresh id and
// the client waits for the response with that id; responses with other ids
// (late answers to calls that already timed out) are dropped, so concurrent
// calls can be added later without changing the wire.
//
// Events (id 0) are routed whenever a frame is read, whatever the client is
// waiting for: stream data and ends go to the StreamBuffer of their (worker,
// stream id); events for streams the client does not know (closed already)
// are dropped. Credit is granted as test code consumes the data, so a
// stream never buffers more than its window here.
#pragma once

#include "deadline.h"
#include "guest_command.h"
#include "guest_path.h"
#include "layer0.h"
#include "stream_buffer.h"

#include <frame.h>

#include <kj/io.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
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

// What a stream-opening request answered.
struct StreamOpened {
  StreamKey key;
  std::uint64_t start_offset = 0;
  std::uint64_t size = 0;
};

// Bytes a stream may have in flight plus buffered here (its credit window).
inline constexpr std::size_t kStreamWindow = 256 * 1024;

// A process the agent spawned (vm:run_async): its id in the (worker) agent,
// its guest pid (also its process group) and its output streams.
struct SpawnedProcess {
  std::uint64_t process = 0;
  std::int32_t pid = 0;
  StreamKey stdout_key;
  StreamKey stderr_key;
};

// What a processWait answered: still running when its limit ran out, or how
// the process ended.
struct ProcessExit {
  bool running = false;
  CommandStatus status = CommandStatus::exited;
  std::int32_t exit_code = 0;  // -1 when signalled
  std::int32_t signal = 0;
};

// Credentials of a worker and of everything it starts.
struct WorkerCredentials {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::vector<std::uint32_t> groups;
};

struct StartedWorker {
  std::uint32_t worker = 0;
  std::int32_t pid = 0;
};

// Most ops one batch holds (bounds what is in flight at once).
inline constexpr std::size_t kMaxBatchOps = 1024;

// One operation of a batch (vm:batch): every kind a batch can hold.
struct BatchRun { GuestCommand command; };
struct BatchReadFile { std::string path; };
struct BatchWriteFile { std::string path; std::string data; };
struct BatchStat { std::string path; };
struct BatchListdir { std::string path; };
struct BatchMkdir { std::string path; bool parents = false; std::uint32_t perm = 0755; };
struct BatchUnlink { std::string path; };
struct BatchRename { std::string from; std::string to; };
struct BatchSyscall { SyscallCall call; };
using BatchOp = std::variant<BatchRun, BatchReadFile, BatchWriteFile, BatchStat, BatchListdir, BatchMkdir, BatchUnlink,
                             BatchRename, BatchSyscall>;

// What one op of a batch came to: a value (nothing for ops that only
// succeed) or the agent's error message.
using BatchValue =
    std::variant<std::monostate, std::string, CommandResult, GuestStat, std::vector<GuestDirEntry>, Layer0Result>;
struct BatchOutcome {
  bool ok = true;
  BatchValue value;
  std::string error;
};

class AgentClient {
 public:
  // Takes ownership of the connected fd (made non-blocking here).
  explicit AgentClient(kj::AutoCloseFd fd);
  ~AgentClient();  // here, where Reply is complete
  AgentClient(const AgentClient&) = delete;
  AgentClient& operator=(const AgentClient&) = delete;

  // Each throws AgentError. After a closed/protocol error the client is
  // broken and every later call fails the same way at once.
  AgentHello hello(std::uint32_t protocol_version, Deadline deadline);
  // A restored guest's first words: hello, then addEntropy(`entropy`) and
  // clockSet(`realtime_ns`), written at once and answered in order, so the
  // three cost one round trip. Throws as hello does; the message of an
  // AgentError::remote starts with the request refused ("clockSet: ...").
  AgentHello hello_restored(std::uint32_t protocol_version, std::string_view entropy, std::int64_t realtime_ns,
                            Deadline deadline);
  void ping(Deadline deadline);
  CommandResult run(const GuestCommand& command, Deadline deadline, std::uint32_t worker = 0);
  // One frame: files up to the frame limit (read_file_streamed has none).
  std::string read_file(const std::string& path, Deadline deadline, std::uint32_t worker = 0);
  // The whole file through a stream, so no frame limit applies.
  std::string read_file_streamed(const std::string& path, Deadline deadline, std::uint32_t worker = 0);
  void write_file(const std::string& path, std::string_view data, std::uint32_t mode, Deadline deadline,
                  std::uint32_t worker = 0);

  // Paths. `worker` 0 is the main agent.
  GuestStat stat(const std::string& path, Deadline deadline, std::uint32_t worker = 0);
  std::vector<GuestDirEntry> listdir(const std::string& path, Deadline deadline, std::uint32_t worker = 0);
  void mkdir(const std::string& path, bool parents, std::uint32_t perm, Deadline deadline, std::uint32_t worker = 0);
  void unlink(const std::string& path, Deadline deadline, std::uint32_t worker = 0);
  void rename(const std::string& from, const std::string& to, Deadline deadline, std::uint32_t worker = 0);

  // Networking (main agent only): the NIC with hardware address `mac` gets
  // `addresses` ("a.b.c.d/len", replacing its IPv4 ones) and goes up or
  // down; the agent's block of /etc/hosts becomes `entries` (address, name).
  // With `previous_mac`, a NIC that still has that address takes `mac` first.
  void configure_nic(const std::array<std::uint8_t, 6>& mac, const std::vector<std::string>& addresses, bool up,
                     Deadline deadline, const std::optional<std::array<std::uint8_t, 6>>& previous_mac = std::nullopt);
  void set_hosts(const std::vector<std::pair<std::string, std::string>>& entries, Deadline deadline);

  // File handles (the handle is the agent's descriptor number).
  std::uint64_t open_file(const std::string& path, std::uint32_t mode_bits, std::uint32_t perm, Deadline deadline,
                          std::uint32_t worker = 0);
  std::string file_read(std::uint64_t handle, std::uint32_t max_bytes, Deadline deadline, std::uint32_t worker = 0);
  std::uint64_t file_write(std::uint64_t handle, std::string_view data, Deadline deadline, std::uint32_t worker = 0);
  // whence: 0 set, 1 cur, 2 end.
  std::uint64_t file_seek(std::uint64_t handle, std::int64_t offset, int whence, Deadline deadline,
                          std::uint32_t worker = 0);
  std::uint64_t file_tell(std::uint64_t handle, Deadline deadline, std::uint32_t worker = 0);
  void file_close(std::uint64_t handle, Deadline deadline, std::uint32_t worker = 0);

  // Layer 0: made in the (worker) agent process itself.
  Layer0Result syscall(const SyscallCall& call, Deadline deadline, std::uint32_t worker = 0);
  Layer0Result ioctl(const IoctlCall& call, Deadline deadline, std::uint32_t worker = 0);

  // The guest's CLOCK_REALTIME in ns since the epoch (the monotonic reading
  // is not used yet), and setting it.
  std::int64_t clock_get(Deadline deadline, std::uint32_t worker = 0);
  void clock_set(std::int64_t realtime_ns, Deadline deadline, std::uint32_t worker = 0);
  // Feeds the guest kernel's entropy pool and reseeds it (main agent only).
  void add_entropy(std::string_view bytes, Deadline deadline);

  // Streams. Opening registers a buffer with a kStreamWindow grant.
  StreamOpened read_file_stream(const std::string& path, Deadline deadline, std::uint32_t worker = 0);
  // Follows `path` from origin (end when `from_end`) + offset, clamped to the file.
  StreamOpened tail_file(const std::string& path, bool from_end, std::int64_t offset, Deadline deadline,
                         std::uint32_t worker = 0);
  StreamOpened fd_stream(std::uint64_t handle, bool follow, Deadline deadline, std::uint32_t worker = 0);
  // Waits until the stream has data or has ended. Returns up to `max` bytes;
  // empty only once the stream ended and everything was read (then see
  // stream_ending()). Grants credit for what it consumed.
  std::string stream_read(StreamKey key, std::size_t max, Deadline deadline);
  // What the stream has buffered, without waiting (reads only frames already
  // readable without blocking).
  std::size_t stream_buffered(StreamKey key);
  std::optional<StreamEnding> stream_ending(StreamKey key) const;
  // Closes the stream in the agent (unless it ended) and forgets it.
  void stream_close(StreamKey key, Deadline deadline);
  std::size_t open_stream_count() const { return streams_.size(); }
  // Up to `max` bytes already buffered, without reading the channel (safe to
  // call while another answer is awaited); grants credit for them.
  std::string stream_take_buffered(StreamKey key, std::size_t max, Deadline deadline);

  // Processes the host drives (vm:run_async). Spawning registers both output
  // streams with a kStreamWindow grant; command.timeout must be empty.
  SpawnedProcess spawn(const GuestCommand& command, Deadline deadline, std::uint32_t worker = 0);
  // Answers once all of `data` is in the process's stdin pipe.
  std::uint64_t process_write(std::uint64_t process, std::string_view data, Deadline deadline,
                              std::uint32_t worker = 0);
  void process_close_stdin(std::uint64_t process, Deadline deadline, std::uint32_t worker = 0);
  void process_signal(std::uint64_t process, int signal, bool group, Deadline deadline, std::uint32_t worker = 0);
  // Waits for the process to exit, for at most `limit` (none: for ever; zero:
  // a poll). `pump` runs after every frame read meanwhile, so the caller can
  // take output with stream_take_buffered: a process whose output window is
  // full blocks on its pipe and would never exit.
  ProcessExit process_wait(std::uint64_t process, std::optional<Millis> limit, Deadline deadline,
                           std::uint32_t worker = 0, const std::function<void()>& pump = {});

  // Workers: second agent processes with their own credentials.
  StartedWorker spawn_worker(const WorkerCredentials& credentials, Deadline deadline);
  void close_worker(std::uint32_t worker, Deadline deadline);

  // Sends every op before awaiting any answer (one round trip), then
  // collects the answers in order. An op the agent refused is an outcome,
  // not an exception; a broken channel or the deadline still throws.
  std::vector<BatchOutcome> batch(const std::vector<BatchOp>& ops, Deadline deadline, std::uint32_t worker = 0);

 private:
  class Reply;

  void send_request(capnp::MallocMessageBuilder& message, Deadline deadline);
  std::uint64_t take_id() { return next_id_++; }
  // Waits for the answer with `id`; answers to other ids in `expected_`
  // are kept for their own await, the rest dropped as late. `pump` runs
  // after every event routed meanwhile.
  std::unique_ptr<Reply> await_reply(std::uint64_t id, const char* op, Deadline deadline,
                                     const std::function<void()>& pump = {});
  // Builds a request (id and worker set here), sends it and awaits its answer.
  template <typename Build>
  std::unique_ptr<Reply> call(const char* op, std::uint32_t worker, Deadline deadline, Build&& build);
  // Reads the next frame (waiting until `deadline`). Events are routed here;
  // an answer is handed back in `answer`.
  enum class Frame { timed_out, routed, answer };
  Frame next_frame(const char* op, Deadline deadline, std::unique_ptr<Reply>& answer);
  // Routes an event or reports the agent's complaint; true if it consumed the frame.
  bool route_unsolicited(Reply& reply);
  StreamBuffer& stream_buffer(StreamKey key, const char* op);
  // Decodes a streamStarted answer and registers the stream's buffer.
  StreamOpened register_stream(Reply& reply, const char* op, std::uint32_t worker);
  void grant_due_credit(StreamKey key, StreamBuffer& buffer, Deadline deadline);
  // Runs `extract` on a reply; malformed content breaks the client.
  template <typename Extract>
  auto decode_reply(const char* op, Extract&& extract);
  void write_bytes(const std::vector<std::byte>& bytes, Deadline deadline);
  // False if the deadline passed with nothing readable (never throws timeout).
  bool read_more(Deadline deadline);
  [[noreturn]] void break_with(AgentError::Kind kind, const std::string& message);
  void throw_if_broken() const;

  kj::AutoCloseFd fd_;
  frame::Decoder decoder_;
  std::uint64_t next_id_ = 1;
  bool broken_ = false;
  AgentError::Kind broken_kind_ = AgentError::Kind::closed;
  std::string broken_reason_;
  std::map<StreamKey, StreamBuffer> streams_;
  // Pipelined requests (a batch): sent, not yet awaited, and the answers
  // that arrived while another was awaited.
  std::set<std::uint64_t> expected_;
  std::map<std::uint64_t, std::unique_ptr<Reply>> arrived_;
};

}  // namespace provium::runner
