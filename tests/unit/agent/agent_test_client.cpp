#include "agent_test_client.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace provium::agent_test {

namespace {
std::string as_string(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}
}  // namespace

std::string Response::stdout_text() const { return as_string(get().getRun().getStdout()); }
std::string Response::stderr_text() const { return as_string(get().getRun().getStderr()); }

std::uint64_t AgentTestClient::send(const std::function<void(wire::Request::Builder)>& fill) {
  capnp::MallocMessageBuilder message;
  auto request = message.initRoot<wire::Request>();
  const std::uint64_t id = next_id_++;
  request.setId(id);
  fill(request);
  auto bytes = provium::frame::encode(message);
  send_raw(bytes.data(), bytes.size());
  return id;
}

void AgentTestClient::send_raw(const void* data, std::size_t size) {
  const auto* cursor = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t wrote = ::write(fd_, cursor, size);
    if (wrote < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("write to agent failed: errno " + std::to_string(errno));
    }
    cursor += wrote;
    size -= static_cast<std::size_t>(wrote);
  }
}

bool AgentTestClient::pump(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0 || eof_) return false;
  pollfd waiting{fd_, POLLIN, 0};
  if (::poll(&waiting, 1, static_cast<int>(left.count())) <= 0) return false;
  std::byte buffer[65536];
  const ssize_t got = ::read(fd_, buffer, sizeof buffer);
  if (got <= 0) {
    eof_ = true;
    return false;
  }
  decoder_.feed(buffer, static_cast<std::size_t>(got));
  while (auto body = decoder_.next()) pending_.emplace_back(kj::mv(*body));
  return true;
}

Response AgentTestClient::wait(std::uint64_t id, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->get().getId() == id) {
        Response found = std::move(*it);
        pending_.erase(it);
        return found;
      }
    }
    if (!pump(deadline)) throw std::runtime_error("no response to request " + std::to_string(id));
  }
}

Response AgentTestClient::next(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (pending_.empty()) {
    if (!pump(deadline)) throw std::runtime_error("no response arrived");
  }
  Response first = std::move(pending_.front());
  pending_.erase(pending_.begin());
  return first;
}

bool AgentTestClient::at_eof(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!eof_ && pump(deadline)) {
  }
  return eof_;
}

Response AgentTestClient::hello(std::uint32_t version) {
  return wait(send([&](wire::Request::Builder r) { r.initHello().setProtocolVersion(version); }));
}

Response AgentTestClient::ping() {
  return wait(send([](wire::Request::Builder r) { r.setPing(); }));
}

std::uint64_t AgentTestClient::send_run(const RunSpec& spec) {
  return send([&](wire::Request::Builder r) {
    auto run = r.initRun();
    auto argv = run.initArgv(static_cast<unsigned>(spec.argv.size()));
    for (unsigned i = 0; i < spec.argv.size(); ++i) argv.set(i, spec.argv[i].c_str());
    auto env = run.initEnv(static_cast<unsigned>(spec.env.size()));
    for (unsigned i = 0; i < spec.env.size(); ++i) {
      env[i].setName(spec.env[i].first.c_str());
      env[i].setValue(spec.env[i].second.c_str());
    }
    run.setEnvClear(spec.env_clear);
    run.setCwd(spec.cwd.c_str());
    run.setStdin(kj::arrayPtr(reinterpret_cast<const kj::byte*>(spec.stdin_data.data()), spec.stdin_data.size()));
    run.setTimeoutMs(spec.timeout_ms);
  });
}

Response AgentTestClient::read_file(const std::string& path) {
  return wait(send([&](wire::Request::Builder r) { r.initReadFile().setPath(path.c_str()); }));
}

Response AgentTestClient::write_file(const std::string& path, const std::string& data, std::uint32_t mode) {
  return wait(send([&](wire::Request::Builder r) {
    auto write = r.initWriteFile();
    write.setPath(path.c_str());
    write.setData(kj::arrayPtr(reinterpret_cast<const kj::byte*>(data.data()), data.size()));
    write.setMode(mode);
  }));
}

Response AgentTestClient::power_off() {
  return wait(send([](wire::Request::Builder r) { r.setPowerOff(); }));
}

}  // namespace provium::agent_test
