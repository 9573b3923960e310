#include "fake_agent.h"

#include <frame.h>

#include <capnp/serialize.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>

namespace provium::runner::testing {

namespace wire = provium::wire::agent;

namespace {

std::string bytes(capnp::Data::Reader data) { return std::string(reinterpret_cast<const char*>(data.begin()), data.size()); }

capnp::Data::Reader as_data(const std::string& text) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(text.data()), text.size());
}

}  // namespace

FakeRun FakeAgent::default_run(const SeenRun& run) {
  FakeRun result;
  if (run.argv.size() == 3 && run.argv[0] == "/bin/sh" && run.argv[1] == "-c") {
    const std::string& script = run.argv[2];
    if (script.rfind("exit ", 0) == 0) {
      result.exit_code = std::stoi(script.substr(5));
      result.stderr_data = "exiting " + script.substr(5) + "\n";
    } else if (script.rfind("echo ", 0) == 0) {
      result.stdout_data = script.substr(5) + "\n";
    } else if (script == "kill") {
      result.status = wire::RunStatus::SIGNALLED;
      result.exit_code = -1;
      result.signal = 9;
    } else if (script == "slow") {
      result.status = wire::RunStatus::TIMED_OUT;
      result.exit_code = -2;
    } else if (script == "cat") {
      result.stdout_data = run.stdin_data;
    }
    return result;
  }
  for (std::size_t i = 0; i < run.argv.size(); ++i) result.stdout_data += (i ? " " : "") + run.argv[i];
  return result;
}

FakeAgent::FakeAgent(kj::AutoCloseFd fd, AgentMisbehaviour misbehaviour, RunHandler on_run)
    : fd_(kj::mv(fd)), misbehaviour_(misbehaviour), on_run_(on_run ? std::move(on_run) : RunHandler(default_run)) {
  thread_ = std::thread([this] { serve(); });
}

FakeAgent::~FakeAgent() {
  ::shutdown(fd_.get(), SHUT_RDWR);
  thread_.join();
}

std::vector<SeenRun> FakeAgent::runs() const {
  std::lock_guard lock(mutex_);
  return runs_;
}

std::map<std::string, std::string> FakeAgent::files() const {
  std::lock_guard lock(mutex_);
  return files_;
}

void FakeAgent::put_file(const std::string& path, const std::string& content) {
  std::lock_guard lock(mutex_);
  files_[path] = content;
}

void FakeAgent::send(capnp::MallocMessageBuilder& message) {
  const auto frame = frame::encode(message);
  std::size_t offset = 0;
  while (offset < frame.size()) {
    const ssize_t written = ::send(fd_.get(), frame.data() + offset, frame.size() - offset, MSG_NOSIGNAL);
    if (written <= 0) return;
    offset += static_cast<std::size_t>(written);
  }
}

void FakeAgent::serve() {
  frame::Decoder decoder;
  bool hello_done = false;
  for (;;) {
    std::byte buffer[65536];
    const ssize_t got = ::read(fd_.get(), buffer, sizeof buffer);
    if (got <= 0) {
      if (got < 0 && errno == EINTR) continue;
      return;
    }
    decoder.feed(buffer, static_cast<std::size_t>(got));
    while (auto words = decoder.next()) {
      capnp::FlatArrayMessageReader reader(*words, frame::reader_options());
      const bool is_hello = reader.getRoot<wire::Request>().isHello();
      if (misbehaviour_ == AgentMisbehaviour::silent) continue;
      if (hello_done && misbehaviour_ == AgentMisbehaviour::close_after_hello) {
        ::shutdown(fd_.get(), SHUT_RDWR);
        return;
      }
      if (hello_done && misbehaviour_ == AgentMisbehaviour::garbage_after_hello) {
        const char garbage[] = "\x10\x00\x00\x00this is not capnp!!";
        ::send(fd_.get(), garbage, sizeof garbage - 1, MSG_NOSIGNAL);
        continue;
      }
      answer(reader);
      if (is_hello) hello_done = true;
    }
  }
}

void FakeAgent::answer(capnp::FlatArrayMessageReader& reader) {
  auto request = reader.getRoot<wire::Request>();
  if (misbehaviour_ == AgentMisbehaviour::stray_reply_first) {
    capnp::MallocMessageBuilder stray;
    auto response = stray.initRoot<wire::Response>();
    response.setId(request.getId() + 1000);
    response.setDone();
    send(stray);
  }
  capnp::MallocMessageBuilder message;
  auto response = message.initRoot<wire::Response>();
  response.setId(request.getId());
  switch (request.which()) {
    case wire::Request::HELLO: {
      auto ok = response.initHelloOk();
      ok.setProtocolVersion(misbehaviour_ == AgentMisbehaviour::old_protocol ? 0 : wire::PROTOCOL_VERSION);
      ok.setAgentVersion("fake-1");
      ok.setGuestOs("fake");
      break;
    }
    case wire::Request::PING:
      response.setPong();
      break;
    case wire::Request::RUN: {
      if (misbehaviour_ == AgentMisbehaviour::wrong_variant) {
        response.setDone();
        break;
      }
      auto run = request.getRun();
      SeenRun seen;
      for (auto word : run.getArgv()) seen.argv.emplace_back(word);
      for (auto var : run.getEnv()) seen.env.emplace_back(var.getName(), var.getValue());
      seen.env_clear = run.getEnvClear();
      seen.cwd = run.getCwd();
      seen.stdin_data = bytes(run.getStdin());
      seen.timeout_ms = run.getTimeoutMs();
      {
        std::lock_guard lock(mutex_);
        runs_.push_back(seen);
      }
      const FakeRun result = on_run_(seen);
      auto out = response.initRun();
      out.setStatus(result.status);
      out.setExitCode(result.exit_code);
      out.setSignal(result.signal);
      out.setStdout(as_data(result.stdout_data));
      out.setStderr(as_data(result.stderr_data));
      break;
    }
    case wire::Request::READ_FILE: {
      std::lock_guard lock(mutex_);
      const auto it = files_.find(request.getReadFile().getPath());
      if (it == files_.end()) {
        auto error = response.initError();
        error.setErrno(ENOENT);
        error.setMessage("No such file or directory");
      } else {
        response.setData(as_data(it->second));
      }
      break;
    }
    case wire::Request::WRITE_FILE: {
      std::lock_guard lock(mutex_);
      auto write = request.getWriteFile();
      files_[write.getPath()] = bytes(write.getData());
      response.setDone();
      break;
    }
    case wire::Request::POWER_OFF:
      response.setDone();
      break;
    default: {
      auto error = response.initError();
      error.setErrno(ENOSYS);
      error.setMessage("the fake agent does not implement this request");
      break;
    }
  }
  send(message);
}

AgentPair make_agent_pair(AgentMisbehaviour misbehaviour, FakeAgent::RunHandler on_run) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair failed");
  AgentPair pair;
  pair.client_fd = kj::AutoCloseFd(fds[0]);
  pair.agent = std::make_unique<FakeAgent>(kj::AutoCloseFd(fds[1]), misbehaviour, std::move(on_run));
  return pair;
}

}  // namespace provium::runner::testing
