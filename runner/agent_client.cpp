#include "agent_client.h"

#include <agent.capnp.h>

#include <capnp/serialize.h>
#include <kj/exception.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace provium::runner {

namespace wire = provium::wire::agent;
using Kind = AgentError::Kind;

class AgentClient::Reply {
 public:
  explicit Reply(kj::Array<capnp::word> words)
      : words_(kj::mv(words)), reader_(words_, frame::reader_options()) {}
  wire::Response::Reader root() { return reader_.getRoot<wire::Response>(); }

 private:
  kj::Array<capnp::word> words_;
  capnp::FlatArrayMessageReader reader_;
};

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

const char* variant_name(wire::Response::Which which) {
  switch (which) {
    case wire::Response::ERROR: return "error";
    case wire::Response::HELLO_OK: return "helloOk";
    case wire::Response::PONG: return "pong";
    case wire::Response::RUN: return "run";
    case wire::Response::DATA: return "data";
    case wire::Response::DONE: return "done";
    case wire::Response::STAT: return "stat";
    case wire::Response::DIR_ENTRIES: return "dirEntries";
    case wire::Response::STREAM_STARTED: return "streamStarted";
    case wire::Response::EVENT: return "event";
    case wire::Response::HANDLE: return "handle";
    case wire::Response::CLOCK: return "clock";
    case wire::Response::SYSCALL: return "syscall";
    case wire::Response::IOCTL: return "ioctl";
    case wire::Response::WRITTEN: return "written";
    case wire::Response::OFFSET: return "offset";
    case wire::Response::PROCESS_STARTED: return "processStarted";
    case wire::Response::PROCESS_STATE: return "processState";
    case wire::Response::WORKER_STARTED: return "workerStarted";
    default: return "another variant";  // the protocol grows; this client needs only these
  }
}

std::string to_string(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

capnp::Data::Reader as_data(std::string_view text) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(text.data()), text.size());
}

const char* entry_type_name(wire::EntryType type) {
  switch (type) {
    case wire::EntryType::FILE: return "file";
    case wire::EntryType::DIRECTORY: return "directory";
    case wire::EntryType::SYMLINK: return "symlink";
    case wire::EntryType::FIFO: return "fifo";
    case wire::EntryType::SOCKET: return "socket";
    case wire::EntryType::BLOCK_DEVICE: return "block_device";
    case wire::EntryType::CHAR_DEVICE: return "char_device";
    case wire::EntryType::OTHER: return "other";
  }
  return "other";  // a newer agent's type: still something that is there
}

void set_nonblocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    throw AgentError(Kind::closed, std::string("agent channel fd is unusable: ") + std::strerror(errno));
  }
}

// Throws the agent's Error as AgentError(remote), or a protocol error if the
// answer is of another kind than `expected`.
void expect_variant(wire::Response::Reader response, wire::Response::Which expected, const char* op) {
  const auto which = response.which();
  if (which == expected) return;
  if (which == wire::Response::ERROR) {
    const auto error = response.getError();
    std::string message = error.getMessage();
    if (message.empty() && error.getErrno() != 0) message = std::strerror(error.getErrno());
    if (message.empty()) message = "unspecified error";
    throw AgentError(Kind::remote, message, error.getErrno());
  }
  throw AgentError(Kind::protocol, std::string("agent answered `") + op + "` with `" + variant_name(which) + "`");
}

CommandStatus status_of(wire::RunStatus status) {
  switch (status) {
    case wire::RunStatus::EXITED: return CommandStatus::exited;
    case wire::RunStatus::SIGNALLED: return CommandStatus::signalled;
    case wire::RunStatus::TIMED_OUT: return CommandStatus::timed_out;
  }
  throw AgentError(Kind::protocol, "agent sent an unknown run status");
}

void encode_command(wire::RunRequest::Builder run, const GuestCommand& command) {
  auto argv = run.initArgv(static_cast<unsigned>(command.argv.size()));
  for (unsigned i = 0; i < argv.size(); ++i) argv.set(i, command.argv[i]);
  auto env = run.initEnv(static_cast<unsigned>(command.env.size()));
  for (unsigned i = 0; i < env.size(); ++i) {
    env[i].setName(command.env[i].first);
    env[i].setValue(command.env[i].second);
  }
  run.setEnvClear(command.env_clear);
  run.setCwd(command.cwd);
  run.setStdin(as_data(command.stdin_data));
  run.setTimeoutMs(command.timeout ? static_cast<std::uint64_t>(command.timeout->count()) : 0);
}

void encode_syscall(wire::SyscallRequest::Builder out, const SyscallCall& syscall) {
  out.setNr(syscall.nr);
  auto args = out.initArgs(static_cast<unsigned>(syscall.args.size()));
  for (unsigned i = 0; i < args.size(); ++i) args.set(i, syscall.args[i]);
  auto bufs = out.initBufs(static_cast<unsigned>(syscall.bufs.size()));
  for (unsigned i = 0; i < bufs.size(); ++i) bufs.set(i, as_data(syscall.bufs[i]));
  auto ptrs = out.initPtrs(static_cast<unsigned>(syscall.ptrs.size()));
  for (unsigned i = 0; i < ptrs.size(); ++i) ptrs.set(i, syscall.ptrs[i]);
}

// Decoders of answers, shared by the single calls and batch(). Each throws
// AgentError (remote for the agent's Error, protocol for anything else).
CommandResult decode_run(wire::Response::Reader response) {
  expect_variant(response, wire::Response::RUN, "run");
  auto result = response.getRun();
  CommandResult out;
  out.status = status_of(result.getStatus());
  out.exit_code = result.getExitCode();
  out.signal = result.getSignal();
  out.stdout_data = to_string(result.getStdout());
  out.stderr_data = to_string(result.getStderr());
  return out;
}

GuestStat decode_stat(wire::Response::Reader response) {
  expect_variant(response, wire::Response::STAT, "stat");
  auto stat = response.getStat();
  return GuestStat{stat.getSize(), stat.getMtimeNs(), stat.getPerm(), entry_type_name(stat.getEntryType()),
                   stat.getUid(), stat.getGid(), stat.getNlink(), stat.getInode()};
}

std::vector<GuestDirEntry> decode_dir_entries(wire::Response::Reader response) {
  expect_variant(response, wire::Response::DIR_ENTRIES, "listdir");
  std::vector<GuestDirEntry> entries;
  for (auto entry : response.getDirEntries()) {
    entries.push_back(GuestDirEntry{entry.getName(), entry_type_name(entry.getEntryType())});
  }
  return entries;
}

Layer0Result decode_syscall(wire::Response::Reader response) {
  expect_variant(response, wire::Response::SYSCALL, "syscall");
  auto result = response.getSyscall();
  Layer0Result out{result.getRet(), result.getErrno(), std::nullopt, {}};
  for (auto buf : result.getOutBufs()) out.out_bufs.push_back(to_string(buf));
  return out;
}

}  // namespace

AgentClient::AgentClient(kj::AutoCloseFd fd) : fd_(kj::mv(fd)) { set_nonblocking(fd_.get()); }

AgentClient::~AgentClient() = default;

void AgentClient::throw_if_broken() const {
  if (broken_) throw AgentError(broken_kind_, broken_reason_);
}

void AgentClient::break_with(Kind kind, const std::string& message) {
  broken_ = true;
  broken_kind_ = kind;
  broken_reason_ = message;
  throw AgentError(kind, message);
}

void AgentClient::write_bytes(const std::vector<std::byte>& bytes, Deadline deadline) {
  std::size_t offset = 0;
  while (offset < bytes.size()) {
    // MSG_NOSIGNAL: a dead peer must be an error here, not a SIGPIPE.
    ssize_t written = ::send(fd_.get(), bytes.data() + offset, bytes.size() - offset, MSG_NOSIGNAL);
    if (written < 0 && errno == ENOTSOCK) written = ::write(fd_.get(), bytes.data() + offset, bytes.size() - offset);
    if (written >= 0) {
      offset += static_cast<std::size_t>(written);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EPIPE || errno == ECONNRESET) break_with(Kind::closed, "agent channel closed");
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      break_with(Kind::closed, std::string("writing to the agent channel: ") + std::strerror(errno));
    }
    pollfd waiter{fd_.get(), POLLOUT, 0};
    const int ready = ::poll(&waiter, 1, deadline.poll_timeout_ms());
    if (ready == 0) throw AgentError(Kind::timeout, "timed out sending to the agent");
    if (ready < 0 && errno != EINTR) break_with(Kind::closed, std::string("poll: ") + std::strerror(errno));
  }
}

bool AgentClient::read_more(Deadline deadline) {
  for (;;) {
    std::byte buffer[kReadChunk];
    const ssize_t got = ::read(fd_.get(), buffer, sizeof buffer);
    if (got > 0) {
      decoder_.feed(buffer, static_cast<std::size_t>(got));
      return true;
    }
    if (got == 0) break_with(Kind::closed, "agent channel closed");
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) break_with(Kind::closed, "agent channel closed (connection reset)");
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      break_with(Kind::closed, std::string("reading the agent channel: ") + std::strerror(errno));
    }
    if (deadline.expired()) return false;
    pollfd waiter{fd_.get(), POLLIN, 0};
    const int ready = ::poll(&waiter, 1, deadline.poll_timeout_ms());
    if (ready == 0) return false;
    if (ready < 0 && errno != EINTR) break_with(Kind::closed, std::string("poll: ") + std::strerror(errno));
  }
}

void AgentClient::send_request(capnp::MallocMessageBuilder& message, Deadline deadline) {
  throw_if_broken();
  write_bytes(frame::encode(message), deadline);
}

AgentClient::Frame AgentClient::next_frame(const char* op, Deadline deadline, std::unique_ptr<Reply>& answer) {
  for (;;) {
    throw_if_broken();
    std::optional<kj::Array<capnp::word>> words;
    try {
      words = decoder_.next();
    } catch (const std::runtime_error& error) {
      break_with(Kind::protocol, error.what());
    }
    if (!words) {
      if (!read_more(deadline)) return Frame::timed_out;
      continue;
    }
    std::unique_ptr<Reply> reply;
    try {
      reply = std::make_unique<Reply>(kj::mv(*words));
      if (route_unsolicited(*reply)) return Frame::routed;
    } catch (const kj::Exception& error) {
      break_with(Kind::protocol, std::string("malformed frame while waiting for `") + op + "`: " +
                                     error.getDescription().cStr());
    }
    answer = std::move(reply);
    return Frame::answer;
  }
}

bool AgentClient::route_unsolicited(Reply& reply) {
  auto root = reply.root();
  if (root.getId() != 0) return false;
  // id 0 with an error is the agent's complaint about a frame it could not
  // parse, which answers nothing else.
  if (root.isError()) {
    break_with(Kind::protocol,
               std::string("the agent could not parse a request (") + root.getError().getMessage().cStr() + ")");
  }
  if (!root.isEvent()) return true;  // nothing else is unsolicited; ignore it
  auto event = root.getEvent();
  const std::uint32_t worker = root.getWorker();
  if (event.isStreamData()) {
    auto data = event.getStreamData();
    const StreamKey key{worker, data.getStream()};
    auto it = streams_.find(key);
    if (it == streams_.end()) return true;  // closed here already: late data
    const auto bytes = data.getData();
    if (!it->second.append(std::string_view(reinterpret_cast<const char*>(bytes.begin()), bytes.size()),
                           data.getAfterTruncation())) {
      break_with(Kind::protocol, "the agent sent stream " + std::to_string(key.stream) + " more than its credit");
    }
  } else if (event.isStreamEnd()) {
    auto end = event.getStreamEnd();
    auto it = streams_.find(StreamKey{worker, end.getStream()});
    if (it == streams_.end()) return true;
    it->second.end(StreamEnding{end.getReason() == wire::StreamEndReason::FAILED, end.getErrno(),
                                end.getMessage().cStr()});
  }
  return true;
}

std::unique_ptr<AgentClient::Reply> AgentClient::await_reply(std::uint64_t id, const char* op, Deadline deadline,
                                                            const std::function<void()>& pump) {
  if (auto it = arrived_.find(id); it != arrived_.end()) {
    auto reply = std::move(it->second);
    arrived_.erase(it);
    return reply;
  }
  for (;;) {
    std::unique_ptr<Reply> reply;
    const Frame frame = next_frame(op, deadline, reply);
    if (frame == Frame::timed_out) throw AgentError(Kind::timeout, "timed out waiting for the agent");
    if (frame == Frame::routed) {
      if (pump) pump();
      continue;
    }
    std::uint64_t reply_id = 0;
    try {
      reply_id = reply->root().getId();
    } catch (const kj::Exception& error) {
      break_with(Kind::protocol, std::string("malformed answer to `") + op + "`: " + error.getDescription().cStr());
    }
    if (reply_id == id) return reply;
    // Another pipelined request's answer waits for its own await; anything
    // else is a late answer to a call we gave up on, dropped.
    if (expected_.erase(reply_id) != 0) arrived_.emplace(reply_id, std::move(reply));
  }
}

template <typename Build>
std::unique_ptr<AgentClient::Reply> AgentClient::call(const char* op, std::uint32_t worker, Deadline deadline,
                                                      Build&& build) {
  capnp::MallocMessageBuilder message;
  auto request = message.initRoot<wire::Request>();
  const auto id = take_id();
  request.setId(id);
  request.setWorker(worker);
  build(request);
  send_request(message, deadline);
  return await_reply(id, op, deadline);
}

template <typename Extract>
auto AgentClient::decode_reply(const char* op, Extract&& extract) {
  try {
    return extract();
  } catch (const kj::Exception& error) {
    break_with(Kind::protocol, std::string("malformed answer to `") + op + "`: " + error.getDescription().cStr());
  } catch (const AgentError& error) {
    if (error.kind() == Kind::protocol) break_with(Kind::protocol, error.what());
    throw;
  }
}

namespace {

AgentHello decode_hello(wire::Response::Reader response) {
  expect_variant(response, wire::Response::HELLO_OK, "hello");
  auto ok = response.getHelloOk();
  AgentHello hello{ok.getProtocolVersion(), ok.getAgentVersion(), ok.getGuestOs(), {}};
  for (auto feature : ok.getFeatures()) hello.features.emplace_back(feature);
  return hello;
}

}  // namespace

AgentHello AgentClient::hello(std::uint32_t protocol_version, Deadline deadline) {
  capnp::MallocMessageBuilder message;
  auto request = message.initRoot<wire::Request>();
  const auto id = take_id();
  request.setId(id);
  request.initHello().setProtocolVersion(protocol_version);
  send_request(message, deadline);
  auto reply = await_reply(id, "hello", deadline);
  return decode_reply("hello", [&] { return decode_hello(reply->root()); });
}

AgentHello AgentClient::hello_restored(std::uint32_t protocol_version, std::string_view entropy,
                                       std::int64_t realtime_ns, Deadline deadline) {
  const auto hello_id = take_id();
  const auto entropy_id = take_id();
  const auto clock_id = take_id();
  // Whatever happens, the pipeline is forgotten afterwards: answers still
  // to come are then late and dropped.
  struct Forget {
    AgentClient& client;
    std::uint64_t ids[2];
    ~Forget() {
      for (auto id : ids) {
        client.expected_.erase(id);
        client.arrived_.erase(id);
      }
    }
  } forget{*this, {entropy_id, clock_id}};
  expected_.insert(entropy_id);
  expected_.insert(clock_id);
  {
    capnp::MallocMessageBuilder message;
    auto request = message.initRoot<wire::Request>();
    request.setId(hello_id);
    request.initHello().setProtocolVersion(protocol_version);
    send_request(message, deadline);
  }
  {
    capnp::MallocMessageBuilder message;
    auto request = message.initRoot<wire::Request>();
    request.setId(entropy_id);
    request.setAddEntropy(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(entropy.data()), entropy.size()));
    send_request(message, deadline);
  }
  {
    capnp::MallocMessageBuilder message;
    auto request = message.initRoot<wire::Request>();
    request.setId(clock_id);
    request.initClockSet().setRealtimeNs(realtime_ns);
    send_request(message, deadline);
  }
  // The agent's refusals name the request they answer.
  const auto naming = [](const char* op, auto&& decode) {
    try {
      return decode();
    } catch (const AgentError& error) {
      if (error.kind() != Kind::remote) throw;
      throw AgentError(Kind::remote, std::string(op) + ": " + error.what(), error.remote_errno());
    }
  };
  auto hello_reply = await_reply(hello_id, "hello", deadline);
  AgentHello hello = naming("hello", [&] {
    return decode_reply("hello", [&] { return decode_hello(hello_reply->root()); });
  });
  for (const auto& [id, op] : {std::pair{entropy_id, "addEntropy"}, std::pair{clock_id, "clockSet"}}) {
    auto reply = await_reply(id, op, deadline);
    naming(op, [&] { decode_reply(op, [&] { expect_variant(reply->root(), wire::Response::DONE, op); }); });
  }
  return hello;
}

void AgentClient::ping(Deadline deadline) {
  capnp::MallocMessageBuilder message;
  auto request = message.initRoot<wire::Request>();
  const auto id = take_id();
  request.setId(id);
  request.setPing();
  send_request(message, deadline);
  auto reply = await_reply(id, "ping", deadline);
  decode_reply("ping", [&] { expect_variant(reply->root(), wire::Response::PONG, "ping"); });
}

CommandResult AgentClient::run(const GuestCommand& command, Deadline deadline, std::uint32_t worker) {
  auto reply = call("run", worker, deadline, [&](auto request) { encode_command(request.initRun(), command); });
  return decode_reply("run", [&] { return decode_run(reply->root()); });
}

std::string AgentClient::read_file(const std::string& path, Deadline deadline, std::uint32_t worker) {
  auto reply = call("readFile", worker, deadline, [&](auto request) { request.initReadFile().setPath(path); });
  return decode_reply("readFile", [&] {
    auto response = reply->root();
    expect_variant(response, wire::Response::DATA, "readFile");
    return to_string(response.getData());
  });
}

std::string AgentClient::read_file_streamed(const std::string& path, Deadline deadline, std::uint32_t worker) {
  // Neither end holds more than one credit window in flight whatever the
  // file's size (one frame would cap files at 64 MiB).
  const StreamOpened opened = read_file_stream(path, deadline, worker);
  std::string data;
  data.reserve(opened.size);
  for (std::string chunk; !(chunk = stream_read(opened.key, kStreamWindow, deadline)).empty();) data += chunk;
  const auto ending = stream_ending(opened.key);
  stream_close(opened.key, deadline);
  if (ending && ending->failed) throw AgentError(Kind::remote, ending->message, ending->error_number);
  return data;
}

void AgentClient::write_file(const std::string& path, std::string_view data, std::uint32_t mode, Deadline deadline,
                             std::uint32_t worker) {
  auto reply = call("writeFile", worker, deadline, [&](auto request) {
    auto write = request.initWriteFile();
    write.setPath(path);
    write.setData(as_data(data));
    write.setMode(mode);
  });
  decode_reply("writeFile", [&] { expect_variant(reply->root(), wire::Response::DONE, "writeFile"); });
}

GuestStat AgentClient::stat(const std::string& path, Deadline deadline, std::uint32_t worker) {
  auto reply = call("stat", worker, deadline, [&](auto request) { request.initStat().setPath(path); });
  return decode_reply("stat", [&] { return decode_stat(reply->root()); });
}

std::vector<GuestDirEntry> AgentClient::listdir(const std::string& path, Deadline deadline, std::uint32_t worker) {
  auto reply = call("listdir", worker, deadline, [&](auto request) { request.initListdir().setPath(path); });
  return decode_reply("listdir", [&] { return decode_dir_entries(reply->root()); });
}

void AgentClient::mkdir(const std::string& path, bool parents, std::uint32_t perm, Deadline deadline,
                        std::uint32_t worker) {
  auto reply = call("mkdir", worker, deadline, [&](auto request) {
    auto mkdir = request.initMkdir();
    mkdir.setPath(path);
    mkdir.setParents(parents);
    mkdir.setPerm(perm);
  });
  decode_reply("mkdir", [&] { expect_variant(reply->root(), wire::Response::DONE, "mkdir"); });
}

void AgentClient::unlink(const std::string& path, Deadline deadline, std::uint32_t worker) {
  auto reply = call("unlink", worker, deadline, [&](auto request) { request.initUnlink().setPath(path); });
  decode_reply("unlink", [&] { expect_variant(reply->root(), wire::Response::DONE, "unlink"); });
}

void AgentClient::configure_nic(const std::array<std::uint8_t, 6>& mac, const std::vector<std::string>& addresses,
                                bool up, Deadline deadline,
                                const std::optional<std::array<std::uint8_t, 6>>& previous_mac) {
  auto reply = call("configureNic", 0, deadline, [&](auto request) {
    auto nic = request.initConfigureNic();
    nic.setMac(capnp::Data::Reader(mac.data(), mac.size()));
    auto list = nic.initAddresses(static_cast<unsigned>(addresses.size()));
    for (unsigned i = 0; i < list.size(); ++i) list.set(i, addresses[i]);
    nic.setUp(up);
    if (previous_mac) nic.setPreviousMac(capnp::Data::Reader(previous_mac->data(), previous_mac->size()));
  });
  decode_reply("configureNic", [&] { expect_variant(reply->root(), wire::Response::DONE, "configureNic"); });
}

void AgentClient::set_hosts(const std::vector<std::pair<std::string, std::string>>& entries, Deadline deadline) {
  auto reply = call("setHosts", 0, deadline, [&](auto request) {
    auto list = request.initSetHosts().initEntries(static_cast<unsigned>(entries.size()));
    for (unsigned i = 0; i < list.size(); ++i) {
      list[i].setAddress(entries[i].first);
      list[i].initNames(1).set(0, entries[i].second);
    }
  });
  decode_reply("setHosts", [&] { expect_variant(reply->root(), wire::Response::DONE, "setHosts"); });
}

void AgentClient::rename(const std::string& from, const std::string& to, Deadline deadline, std::uint32_t worker) {
  auto reply = call("rename", worker, deadline, [&](auto request) {
    auto rename = request.initRename();
    rename.setFrom(from);
    rename.setTo(to);
  });
  decode_reply("rename", [&] { expect_variant(reply->root(), wire::Response::DONE, "rename"); });
}

std::uint64_t AgentClient::open_file(const std::string& path, std::uint32_t mode_bits, std::uint32_t perm,
                                     Deadline deadline, std::uint32_t worker) {
  auto reply = call("openFile", worker, deadline, [&](auto request) {
    auto open = request.initOpenFile();
    open.setPath(path);
    open.setMode(mode_bits);
    open.setPerm(perm);
  });
  return decode_reply("openFile", [&] {
    expect_variant(reply->root(), wire::Response::HANDLE, "openFile");
    return reply->root().getHandle();
  });
}

std::string AgentClient::file_read(std::uint64_t handle, std::uint32_t max_bytes, Deadline deadline,
                                   std::uint32_t worker) {
  auto reply = call("fileRead", worker, deadline, [&](auto request) {
    auto read = request.initFileRead();
    read.setHandle(handle);
    read.setMaxBytes(max_bytes);
  });
  return decode_reply("fileRead", [&] {
    expect_variant(reply->root(), wire::Response::DATA, "fileRead");
    return to_string(reply->root().getData());
  });
}

std::uint64_t AgentClient::file_write(std::uint64_t handle, std::string_view data, Deadline deadline,
                                      std::uint32_t worker) {
  auto reply = call("fileWrite", worker, deadline, [&](auto request) {
    auto write = request.initFileWrite();
    write.setHandle(handle);
    write.setData(as_data(data));
  });
  return decode_reply("fileWrite", [&] {
    expect_variant(reply->root(), wire::Response::WRITTEN, "fileWrite");
    return reply->root().getWritten();
  });
}

std::uint64_t AgentClient::file_seek(std::uint64_t handle, std::int64_t offset, int whence, Deadline deadline,
                                     std::uint32_t worker) {
  auto reply = call("fileSeek", worker, deadline, [&](auto request) {
    auto seek = request.initFileSeek();
    seek.setHandle(handle);
    seek.setOffset(offset);
    seek.setWhence(whence == 0 ? wire::SeekWhence::SET : whence == 1 ? wire::SeekWhence::CUR : wire::SeekWhence::END);
  });
  return decode_reply("fileSeek", [&] {
    expect_variant(reply->root(), wire::Response::OFFSET, "fileSeek");
    return reply->root().getOffset();
  });
}

std::uint64_t AgentClient::file_tell(std::uint64_t handle, Deadline deadline, std::uint32_t worker) {
  auto reply = call("fileTell", worker, deadline, [&](auto request) { request.initFileTell().setHandle(handle); });
  return decode_reply("fileTell", [&] {
    expect_variant(reply->root(), wire::Response::OFFSET, "fileTell");
    return reply->root().getOffset();
  });
}

void AgentClient::file_close(std::uint64_t handle, Deadline deadline, std::uint32_t worker) {
  auto reply = call("fileClose", worker, deadline, [&](auto request) { request.initFileClose().setHandle(handle); });
  decode_reply("fileClose", [&] { expect_variant(reply->root(), wire::Response::DONE, "fileClose"); });
}

Layer0Result AgentClient::syscall(const SyscallCall& syscall, Deadline deadline, std::uint32_t worker) {
  auto reply = call("syscall", worker, deadline, [&](auto request) { encode_syscall(request.initSyscall(), syscall); });
  return decode_reply("syscall", [&] { return decode_syscall(reply->root()); });
}

Layer0Result AgentClient::ioctl(const IoctlCall& ioctl, Deadline deadline, std::uint32_t worker) {
  auto reply = call("ioctl", worker, deadline, [&](auto request) {
    auto out = request.initIoctl();
    out.setFd(ioctl.fd);
    out.setCmd(ioctl.cmd);
    out.setArg(ioctl.arg);
    if (ioctl.data) out.setData(as_data(*ioctl.data));
    auto bufs = out.initBufs(static_cast<unsigned>(ioctl.bufs.size()));
    for (unsigned i = 0; i < bufs.size(); ++i) bufs.set(i, as_data(ioctl.bufs[i]));
    auto offsets = out.initPtrOffsets(static_cast<unsigned>(ioctl.ptr_offsets.size()));
    for (unsigned i = 0; i < offsets.size(); ++i) offsets.set(i, ioctl.ptr_offsets[i]);
  });
  return decode_reply("ioctl", [&] {
    expect_variant(reply->root(), wire::Response::IOCTL, "ioctl");
    auto result = reply->root().getIoctl();
    Layer0Result out{result.getRet(), result.getErrno(), to_string(result.getOutData()), {}};
    for (auto buf : result.getOutBufs()) out.out_bufs.push_back(to_string(buf));
    return out;
  });
}

std::int64_t AgentClient::clock_get(Deadline deadline, std::uint32_t worker) {
  auto reply = call("clockGet", worker, deadline, [&](auto request) { request.setClockGet(); });
  return decode_reply("clockGet", [&] {
    expect_variant(reply->root(), wire::Response::CLOCK, "clockGet");
    return reply->root().getClock().getRealtimeNs();
  });
}

void AgentClient::clock_set(std::int64_t realtime_ns, Deadline deadline, std::uint32_t worker) {
  auto reply = call("clockSet", worker, deadline,
                    [&](auto request) { request.initClockSet().setRealtimeNs(realtime_ns); });
  decode_reply("clockSet", [&] { expect_variant(reply->root(), wire::Response::DONE, "clockSet"); });
}

void AgentClient::add_entropy(std::string_view bytes, Deadline deadline) {
  auto reply = call("addEntropy", 0, deadline, [&](auto request) {
    request.setAddEntropy(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()));
  });
  decode_reply("addEntropy", [&] { expect_variant(reply->root(), wire::Response::DONE, "addEntropy"); });
}

StreamOpened AgentClient::read_file_stream(const std::string& path, Deadline deadline, std::uint32_t worker) {
  auto reply = call("readFileStream", worker, deadline, [&](auto request) {
    auto open = request.initReadFileStream();
    open.setPath(path);
    open.setInitialCredit(kStreamWindow);
  });
  return register_stream(*reply, "readFileStream", worker);
}

StreamOpened AgentClient::register_stream(Reply& reply, const char* op, std::uint32_t worker) {
  const StreamOpened opened = decode_reply(op, [&] {
    auto response = reply.root();
    expect_variant(response, wire::Response::STREAM_STARTED, op);
    auto started = response.getStreamStarted();
    return StreamOpened{StreamKey{worker, started.getStream()}, started.getStartOffset(), started.getSize()};
  });
  // Data can only follow the answer on the wire, so registering now loses nothing.
  streams_.try_emplace(opened.key, kStreamWindow);
  return opened;
}

StreamOpened AgentClient::tail_file(const std::string& path, bool from_end, std::int64_t offset, Deadline deadline,
                                    std::uint32_t worker) {
  auto reply = call("tailFile", worker, deadline, [&](auto request) {
    auto tail = request.initTailFile();
    tail.setPath(path);
    tail.setOrigin(from_end ? wire::TailOrigin::END : wire::TailOrigin::BEGINNING);
    tail.setOffset(offset);
    tail.setInitialCredit(kStreamWindow);
  });
  return register_stream(*reply, "tailFile", worker);
}

StreamOpened AgentClient::fd_stream(std::uint64_t handle, bool follow, Deadline deadline, std::uint32_t worker) {
  auto reply = call("fdStream", worker, deadline, [&](auto request) {
    auto stream = request.initFdStream();
    stream.setHandle(handle);
    stream.setFollow(follow);
    stream.setInitialCredit(kStreamWindow);
  });
  return register_stream(*reply, "fdStream", worker);
}

StreamBuffer& AgentClient::stream_buffer(StreamKey key, const char* op) {
  auto it = streams_.find(key);
  if (it == streams_.end()) {
    throw std::logic_error(std::string(op) + ": stream " + std::to_string(key.stream) + " is not open");
  }
  return it->second;
}

void AgentClient::grant_due_credit(StreamKey key, StreamBuffer& buffer, Deadline deadline) {
  const auto grant = buffer.due_grant();
  if (!grant) return;
  capnp::MallocMessageBuilder message;
  auto request = message.initRoot<wire::Request>();
  request.setId(take_id());  // never answered (a window update)
  request.setWorker(key.worker);
  auto credit = request.initStreamCredit();
  credit.setStream(key.stream);
  credit.setBytes(*grant);
  send_request(message, deadline);
}

std::string AgentClient::stream_read(StreamKey key, std::size_t max, Deadline deadline) {
  for (;;) {
    StreamBuffer& buffer = stream_buffer(key, "stream read");
    if (buffer.buffered() > 0) {
      std::string data = buffer.take(max);
      grant_due_credit(key, buffer, deadline);
      return data;
    }
    if (buffer.ended()) return {};
    std::unique_ptr<Reply> late;
    if (next_frame("stream data", deadline, late) == Frame::timed_out) {
      throw AgentError(Kind::timeout, "timed out waiting for stream data");
    }
    // A non-event frame here is a late answer to a call given up on: dropped.
  }
}

std::size_t AgentClient::stream_buffered(StreamKey key) {
  const Deadline now = Deadline::after(SteadyClock::duration::zero());
  std::unique_ptr<Reply> late;
  while (next_frame("stream data", now, late) != Frame::timed_out) {
  }
  return stream_buffer(key, "stream poll").buffered();
}

std::optional<StreamEnding> AgentClient::stream_ending(StreamKey key) const {
  auto it = streams_.find(key);
  if (it == streams_.end()) return std::nullopt;
  return it->second.ending();
}

void AgentClient::stream_close(StreamKey key, Deadline deadline) {
  auto it = streams_.find(key);
  if (it == streams_.end()) return;
  const bool ended = it->second.ended();
  // Forget it first: whatever arrives from now on is late and dropped.
  streams_.erase(it);
  if (ended) return;  // the agent forgot it when it sent the end
  auto reply = call("streamClose", key.worker, deadline,
                    [&](auto request) { request.initStreamClose().setStream(key.stream); });
  try {
    decode_reply("streamClose", [&] { expect_variant(reply->root(), wire::Response::DONE, "streamClose"); });
  } catch (const AgentError& error) {
    // ENOENT: the stream ended on its own while the close was on its way
    // (its end event is dropped as late); closed either way.
    if (error.kind() != Kind::remote || error.remote_errno() != ENOENT) throw;
  }
}

std::string AgentClient::stream_take_buffered(StreamKey key, std::size_t max, Deadline deadline) {
  StreamBuffer& buffer = stream_buffer(key, "stream take");
  if (buffer.buffered() == 0) return {};
  std::string data = buffer.take(max);
  grant_due_credit(key, buffer, deadline);
  return data;
}

SpawnedProcess AgentClient::spawn(const GuestCommand& command, Deadline deadline, std::uint32_t worker) {
  auto reply = call("spawn", worker, deadline, [&](auto request) {
    auto spawn = request.initSpawn();
    encode_command(spawn.initCommand(), command);
    spawn.setInitialCredit(kStreamWindow);
  });
  const SpawnedProcess spawned = decode_reply("spawn", [&] {
    auto response = reply->root();
    expect_variant(response, wire::Response::PROCESS_STARTED, "spawn");
    auto started = response.getProcessStarted();
    return SpawnedProcess{started.getProcess(), started.getPid(), StreamKey{worker, started.getStdoutStream()},
                          StreamKey{worker, started.getStderrStream()}};
  });
  // As for register_stream: output can only follow the answer on the wire.
  streams_.try_emplace(spawned.stdout_key, kStreamWindow);
  streams_.try_emplace(spawned.stderr_key, kStreamWindow);
  return spawned;
}

std::uint64_t AgentClient::process_write(std::uint64_t process, std::string_view data, Deadline deadline,
                                         std::uint32_t worker) {
  auto reply = call("processWrite", worker, deadline, [&](auto request) {
    auto write = request.initProcessWrite();
    write.setProcess(process);
    write.setData(as_data(data));
  });
  return decode_reply("processWrite", [&] {
    expect_variant(reply->root(), wire::Response::WRITTEN, "processWrite");
    return reply->root().getWritten();
  });
}

void AgentClient::process_close_stdin(std::uint64_t process, Deadline deadline, std::uint32_t worker) {
  auto reply = call("processCloseStdin", worker, deadline,
                    [&](auto request) { request.initProcessCloseStdin().setProcess(process); });
  decode_reply("processCloseStdin",
               [&] { expect_variant(reply->root(), wire::Response::DONE, "processCloseStdin"); });
}

void AgentClient::process_signal(std::uint64_t process, int signal, bool group, Deadline deadline,
                                 std::uint32_t worker) {
  auto reply = call("processSignal", worker, deadline, [&](auto request) {
    auto out = request.initProcessSignal();
    out.setProcess(process);
    out.setSignal(signal);
    out.setGroup(group);
  });
  decode_reply("processSignal", [&] { expect_variant(reply->root(), wire::Response::DONE, "processSignal"); });
}

ProcessExit AgentClient::process_wait(std::uint64_t process, std::optional<Millis> limit, Deadline deadline,
                                      std::uint32_t worker, const std::function<void()>& pump) {
  capnp::MallocMessageBuilder message;
  auto request = message.initRoot<wire::Request>();
  const auto id = take_id();
  request.setId(id);
  request.setWorker(worker);
  auto wait = request.initProcessWait();
  wait.setProcess(process);
  wait.setForever(!limit.has_value());
  if (limit) wait.setTimeoutMs(static_cast<std::uint64_t>(limit->count()));
  send_request(message, deadline);
  auto reply = await_reply(id, "processWait", deadline, pump);
  return decode_reply("processWait", [&] {
    auto response = reply->root();
    expect_variant(response, wire::Response::PROCESS_STATE, "processWait");
    auto state = response.getProcessState();
    if (state.getRunning()) return ProcessExit{true, CommandStatus::exited, 0, 0};
    return ProcessExit{false, status_of(state.getStatus()), state.getExitCode(), state.getSignal()};
  });
}

StartedWorker AgentClient::spawn_worker(const WorkerCredentials& credentials, Deadline deadline) {
  auto reply = call("spawnWorker", 0, deadline, [&](auto request) {
    auto spawn = request.initSpawnWorker();
    spawn.setUid(credentials.uid);
    spawn.setGid(credentials.gid);
    auto groups = spawn.initGroups(static_cast<unsigned>(credentials.groups.size()));
    for (unsigned i = 0; i < groups.size(); ++i) groups.set(i, credentials.groups[i]);
  });
  return decode_reply("spawnWorker", [&] {
    auto response = reply->root();
    expect_variant(response, wire::Response::WORKER_STARTED, "spawnWorker");
    auto started = response.getWorkerStarted();
    if (started.getWorker() == 0) throw AgentError(Kind::protocol, "agent started a worker with id 0");
    return StartedWorker{started.getWorker(), started.getPid()};
  });
}

void AgentClient::close_worker(std::uint32_t worker, Deadline deadline) {
  auto reply = call("closeWorker", 0, deadline, [&](auto request) { request.initCloseWorker().setWorker(worker); });
  decode_reply("closeWorker", [&] { expect_variant(reply->root(), wire::Response::DONE, "closeWorker"); });
  // Its streams went with it.
  for (auto it = streams_.begin(); it != streams_.end();) {
    it = it->first.worker == worker ? streams_.erase(it) : std::next(it);
  }
}

namespace {

template <typename... Arms>
struct Overloaded : Arms... {
  using Arms::operator()...;
};
template <typename... Arms>
Overloaded(Arms...) -> Overloaded<Arms...>;

const char* batch_op_name(const BatchOp& op) {
  return std::visit(Overloaded{
                        [](const BatchRun&) { return "run"; },
                        [](const BatchReadFile&) { return "readFile"; },
                        [](const BatchWriteFile&) { return "writeFile"; },
                        [](const BatchStat&) { return "stat"; },
                        [](const BatchListdir&) { return "listdir"; },
                        [](const BatchMkdir&) { return "mkdir"; },
                        [](const BatchUnlink&) { return "unlink"; },
                        [](const BatchRename&) { return "rename"; },
                        [](const BatchSyscall&) { return "syscall"; },
                    },
                    op);
}

void encode_batch_op(wire::Request::Builder request, const BatchOp& op, std::uint32_t new_file_mode) {
  std::visit(Overloaded{
                 [&](const BatchRun& run) { encode_command(request.initRun(), run.command); },
                 [&](const BatchReadFile& read) { request.initReadFile().setPath(read.path); },
                 [&](const BatchWriteFile& write) {
                   auto out = request.initWriteFile();
                   out.setPath(write.path);
                   out.setData(as_data(write.data));
                   out.setMode(new_file_mode);
                 },
                 [&](const BatchStat& stat) { request.initStat().setPath(stat.path); },
                 [&](const BatchListdir& listdir) { request.initListdir().setPath(listdir.path); },
                 [&](const BatchMkdir& mkdir) {
                   auto out = request.initMkdir();
                   out.setPath(mkdir.path);
                   out.setParents(mkdir.parents);
                   out.setPerm(mkdir.perm);
                 },
                 [&](const BatchUnlink& unlink) { request.initUnlink().setPath(unlink.path); },
                 [&](const BatchRename& rename) {
                   auto out = request.initRename();
                   out.setFrom(rename.from);
                   out.setTo(rename.to);
                 },
                 [&](const BatchSyscall& syscall) { encode_syscall(request.initSyscall(), syscall.call); },
             },
             op);
}

BatchValue decode_batch_answer(wire::Response::Reader response, const BatchOp& op) {
  return std::visit(Overloaded{
                        [&](const BatchRun&) -> BatchValue { return decode_run(response); },
                        [&](const BatchReadFile&) -> BatchValue {
                          expect_variant(response, wire::Response::DATA, "readFile");
                          return to_string(response.getData());
                        },
                        [&](const BatchStat&) -> BatchValue { return decode_stat(response); },
                        [&](const BatchListdir&) -> BatchValue { return decode_dir_entries(response); },
                        [&](const BatchSyscall&) -> BatchValue { return decode_syscall(response); },
                        [&](const auto&) -> BatchValue {
                          expect_variant(response, wire::Response::DONE, batch_op_name(op));
                          return std::monostate{};
                        },
                    },
                    op);
}

}  // namespace

std::vector<BatchOutcome> AgentClient::batch(const std::vector<BatchOp>& ops, Deadline deadline,
                                             std::uint32_t worker) {
  if (ops.size() > kMaxBatchOps) {
    throw std::invalid_argument("a batch holds at most " + std::to_string(kMaxBatchOps) + " ops, got " +
                                std::to_string(ops.size()));
  }
  constexpr std::uint32_t kNewFileMode = 0644;
  std::vector<std::uint64_t> ids;
  // Whatever happens, the pipeline is forgotten afterwards: answers still
  // to come are then late and dropped.
  struct Forget {
    AgentClient& client;
    std::vector<std::uint64_t>& ids;
    ~Forget() {
      for (auto id : ids) {
        client.expected_.erase(id);
        client.arrived_.erase(id);
      }
    }
  } forget{*this, ids};
  for (const BatchOp& op : ops) {
    capnp::MallocMessageBuilder message;
    auto request = message.initRoot<wire::Request>();
    const auto id = take_id();
    request.setId(id);
    request.setWorker(worker);
    encode_batch_op(request, op, kNewFileMode);
    ids.push_back(id);
    expected_.insert(id);
    send_request(message, deadline);
  }
  std::vector<BatchOutcome> outcomes;
  outcomes.reserve(ops.size());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const char* name = batch_op_name(ops[i]);
    auto reply = await_reply(ids[i], name, deadline);
    expected_.erase(ids[i]);
    try {
      outcomes.push_back(BatchOutcome{true, decode_reply(name, [&] { return decode_batch_answer(reply->root(), ops[i]); }), {}});
    } catch (const AgentError& error) {
      if (error.kind() != Kind::remote) throw;
      outcomes.push_back(BatchOutcome{false, std::monostate{}, error.what()});
    }
  }
  return outcomes;
}

}  // namespace provium::runner
