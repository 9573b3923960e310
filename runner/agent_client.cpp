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
    default: return "another variant";  // the protocol grows; this client needs only these
  }
}

std::string to_string(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

capnp::Data::Reader as_data(std::string_view text) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(text.data()), text.size());
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

}  // namespace

AgentClient::AgentClient(kj::AutoCloseFd fd) : fd_(kj::mv(fd)) { set_nonblocking(fd_.get()); }

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

void AgentClient::read_more(Deadline deadline) {
  for (;;) {
    std::byte buffer[kReadChunk];
    const ssize_t got = ::read(fd_.get(), buffer, sizeof buffer);
    if (got > 0) {
      decoder_.feed(buffer, static_cast<std::size_t>(got));
      return;
    }
    if (got == 0) break_with(Kind::closed, "agent channel closed");
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) break_with(Kind::closed, "agent channel closed (connection reset)");
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      break_with(Kind::closed, std::string("reading the agent channel: ") + std::strerror(errno));
    }
    if (deadline.expired()) throw AgentError(Kind::timeout, "timed out waiting for the agent");
    pollfd waiter{fd_.get(), POLLIN, 0};
    const int ready = ::poll(&waiter, 1, deadline.poll_timeout_ms());
    if (ready == 0) throw AgentError(Kind::timeout, "timed out waiting for the agent");
    if (ready < 0 && errno != EINTR) break_with(Kind::closed, std::string("poll: ") + std::strerror(errno));
  }
}

void AgentClient::send_request(capnp::MallocMessageBuilder& message, Deadline deadline) {
  throw_if_broken();
  write_bytes(frame::encode(message), deadline);
}

std::unique_ptr<AgentClient::Reply> AgentClient::await_reply(std::uint64_t id, const char* op, Deadline deadline) {
  for (;;) {
    throw_if_broken();
    std::optional<kj::Array<capnp::word>> words;
    try {
      words = decoder_.next();
    } catch (const std::runtime_error& error) {
      break_with(Kind::protocol, error.what());
    }
    if (!words) {
      read_more(deadline);
      continue;
    }
    std::unique_ptr<Reply> reply;
    std::uint64_t reply_id = 0;
    try {
      reply = std::make_unique<Reply>(kj::mv(*words));
      reply_id = reply->root().getId();
    } catch (const kj::Exception& error) {
      break_with(Kind::protocol, std::string("malformed answer to `") + op + "`: " + error.getDescription().cStr());
    }
    if (reply_id == id) return reply;
    // id 0 carries unsolicited events (ignored here) and the agent's
    // complaint about a frame it could not parse, which answers nothing else.
    if (reply_id == 0 && reply->root().isError()) {
      break_with(Kind::protocol, std::string("the agent could not parse a request (") +
                                     reply->root().getError().getMessage().cStr() + ")");
    }
    // Otherwise: a late answer to a call we gave up on, or an event. Dropped.
  }
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

AgentHello AgentClient::hello(std::uint32_t protocol_version, Deadline deadline) {
  capnp::MallocMessageBuilder message;
  auto request = message.initRoot<wire::Request>();
  const auto id = take_id();
  request.setId(id);
  request.initHello().setProtocolVersion(protocol_version);
  send_request(message, deadline);
  auto reply = await_reply(id, "hello", deadline);
  return decode_reply("hello", [&] {
    auto response = reply->root();
    expect_variant(response, wire::Response::HELLO_OK, "hello");
    auto ok = response.getHelloOk();
    AgentHello hello{ok.getProtocolVersion(), ok.getAgentVersion(), ok.getGuestOs(), {}};
    for (auto feature : ok.getFeatures()) hello.features.emplace_back(feature);
    return hello;
  });
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

CommandResult AgentClient::run(const GuestCommand& command, Deadline deadline) {
  capnp::MallocMessageBuilder message;
  auto request = message.initRoot<wire::Request>();
  const auto id = take_id();
  request.setId(id);
  auto run = request.initRun();
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
  send_request(message, deadline);
  auto reply = await_reply(id, "run", deadline);
  return decode_reply("run", [&] {
    auto response = reply->root();
    expect_variant(response, wire::Response::RUN, "run");
    auto result = response.getRun();
    CommandResult out;
    switch (result.getStatus()) {
      case wire::RunStatus::EXITED: out.status = CommandStatus::exited; break;
      case wire::RunStatus::SIGNALLED: out.status = CommandStatus::signalled; break;
      case wire::RunStatus::TIMED_OUT: out.status = CommandStatus::timed_out; break;
      default: throw AgentError(Kind::protocol, "agent sent an unknown run status");
    }
    out.exit_code = result.getExitCode();
    out.signal = result.getSignal();
    out.stdout_data = to_string(result.getStdout());
    out.stderr_data = to_string(result.getStderr());
    return out;
  });
}

std::string AgentClient::read_file(const std::string& path, Deadline deadline) {
  capnp::MallocMessageBuilder message;
  auto request = message.initRoot<wire::Request>();
  const auto id = take_id();
  request.setId(id);
  request.initReadFile().setPath(path);
  send_request(message, deadline);
  auto reply = await_reply(id, "readFile", deadline);
  return decode_reply("readFile", [&] {
    auto response = reply->root();
    expect_variant(response, wire::Response::DATA, "readFile");
    return to_string(response.getData());
  });
}

void AgentClient::write_file(const std::string& path, std::string_view data, std::uint32_t mode, Deadline deadline) {
  capnp::MallocMessageBuilder message;
  auto request = message.initRoot<wire::Request>();
  const auto id = take_id();
  request.setId(id);
  auto write = request.initWriteFile();
  write.setPath(path);
  write.setData(as_data(data));
  write.setMode(mode);
  send_request(message, deadline);
  auto reply = await_reply(id, "writeFile", deadline);
  decode_reply("writeFile", [&] { expect_variant(reply->root(), wire::Response::DONE, "writeFile"); });
}

}  // namespace provium::runner
