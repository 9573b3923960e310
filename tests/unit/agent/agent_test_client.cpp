#include "agent_test_client.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

namespace provium::agent_test {

namespace {
std::string as_string(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

capnp::Data::Reader as_data(const std::string& text) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(text.data()), text.size());
}

void fill_run(wire::RunRequest::Builder run, const RunSpec& spec) {
  auto argv = run.initArgv(static_cast<unsigned>(spec.argv.size()));
  for (unsigned i = 0; i < spec.argv.size(); ++i) argv.set(i, spec.argv[i].c_str());
  auto env = run.initEnv(static_cast<unsigned>(spec.env.size()));
  for (unsigned i = 0; i < spec.env.size(); ++i) {
    env[i].setName(spec.env[i].first.c_str());
    env[i].setValue(spec.env[i].second.c_str());
  }
  run.setEnvClear(spec.env_clear);
  run.setCwd(spec.cwd.c_str());
  run.setStdin(as_data(spec.stdin_data));
  run.setTimeoutMs(spec.timeout_ms);
}
}  // namespace

std::string Response::stdout_text() const { return as_string(get().getRun().getStdout()); }
std::string Response::stderr_text() const { return as_string(get().getRun().getStderr()); }

std::uint64_t AgentTestClient::send(const std::function<void(wire::Request::Builder)>& fill) {
  capnp::MallocMessageBuilder message;
  auto request = message.initRoot<wire::Request>();
  const std::uint64_t id = next_id_++;
  request.setId(id);
  request.setWorker(worker);
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
  return send([&](wire::Request::Builder r) { fill_run(r.initRun(), spec); });
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


Response AgentTestClient::stat(const std::string& path) {
  return call([&](wire::Request::Builder r) { r.initStat().setPath(path.c_str()); });
}

Response AgentTestClient::listdir(const std::string& path) {
  return call([&](wire::Request::Builder r) { r.initListdir().setPath(path.c_str()); });
}

Response AgentTestClient::mkdir(const std::string& path, bool parents, std::optional<std::uint32_t> perm) {
  return call([&](wire::Request::Builder r) {
    auto mkdir = r.initMkdir();
    mkdir.setPath(path.c_str());
    mkdir.setParents(parents);
    if (perm) mkdir.setPerm(*perm);
  });
}

Response AgentTestClient::unlink(const std::string& path) {
  return call([&](wire::Request::Builder r) { r.initUnlink().setPath(path.c_str()); });
}

Response AgentTestClient::rename(const std::string& from, const std::string& to) {
  return call([&](wire::Request::Builder r) {
    auto rename = r.initRename();
    rename.setFrom(from.c_str());
    rename.setTo(to.c_str());
  });
}

Response AgentTestClient::open_file(const std::string& path, std::uint32_t mode, std::optional<std::uint32_t> perm) {
  return call([&](wire::Request::Builder r) {
    auto open = r.initOpenFile();
    open.setPath(path.c_str());
    open.setMode(mode);
    if (perm) open.setPerm(*perm);
  });
}

std::uint64_t AgentTestClient::send_file_read(std::uint64_t handle, std::uint32_t max_bytes, std::int64_t offset) {
  return send([&](wire::Request::Builder r) {
    auto read = r.initFileRead();
    read.setHandle(handle);
    read.setMaxBytes(max_bytes);
    read.setOffset(offset);
  });
}

Response AgentTestClient::file_write(std::uint64_t handle, const std::string& data, std::int64_t offset) {
  return call([&](wire::Request::Builder r) {
    auto write = r.initFileWrite();
    write.setHandle(handle);
    write.setData(as_data(data));
    write.setOffset(offset);
  });
}

Response AgentTestClient::file_seek(std::uint64_t handle, std::int64_t offset, wire::SeekWhence whence) {
  return call([&](wire::Request::Builder r) {
    auto seek = r.initFileSeek();
    seek.setHandle(handle);
    seek.setOffset(offset);
    seek.setWhence(whence);
  });
}

Response AgentTestClient::file_tell(std::uint64_t handle) {
  return call([&](wire::Request::Builder r) { r.initFileTell().setHandle(handle); });
}

Response AgentTestClient::file_close(std::uint64_t handle) {
  return call([&](wire::Request::Builder r) { r.initFileClose().setHandle(handle); });
}

Response AgentTestClient::spawn(const RunSpec& spec, std::uint64_t initial_credit) {
  return call([&](wire::Request::Builder r) {
    auto spawn = r.initSpawn();
    fill_run(spawn.initCommand(), spec);
    spawn.setInitialCredit(initial_credit);
  });
}

Response AgentTestClient::process_write(std::uint64_t process, const std::string& data) {
  return call([&](wire::Request::Builder r) {
    auto write = r.initProcessWrite();
    write.setProcess(process);
    write.setData(as_data(data));
  });
}

Response AgentTestClient::process_close_stdin(std::uint64_t process) {
  return call([&](wire::Request::Builder r) { r.initProcessCloseStdin().setProcess(process); });
}

Response AgentTestClient::process_signal(std::uint64_t process, int signal, bool group) {
  return call([&](wire::Request::Builder r) {
    auto request = r.initProcessSignal();
    request.setProcess(process);
    request.setSignal(signal);
    request.setGroup(group);
  });
}

Response AgentTestClient::process_wait(std::uint64_t process, std::optional<std::uint64_t> timeout_ms) {
  return call([&](wire::Request::Builder r) {
    auto wait = r.initProcessWait();
    wait.setProcess(process);
    wait.setTimeoutMs(timeout_ms.value_or(0));
    wait.setForever(!timeout_ms);
  });
}

Response AgentTestClient::tail_file(const std::string& path, wire::TailOrigin origin, std::int64_t offset,
                                    std::uint64_t credit) {
  return call([&](wire::Request::Builder r) {
    auto tail = r.initTailFile();
    tail.setPath(path.c_str());
    tail.setOrigin(origin);
    tail.setOffset(offset);
    tail.setInitialCredit(credit);
  });
}

Response AgentTestClient::fd_stream(std::uint64_t handle, bool follow, std::uint64_t credit) {
  return call([&](wire::Request::Builder r) {
    auto stream = r.initFdStream();
    stream.setHandle(handle);
    stream.setFollow(follow);
    stream.setInitialCredit(credit);
  });
}

Response AgentTestClient::read_file_stream(const std::string& path, std::uint64_t credit) {
  return call([&](wire::Request::Builder r) {
    auto stream = r.initReadFileStream();
    stream.setPath(path.c_str());
    stream.setInitialCredit(credit);
  });
}

void AgentTestClient::stream_credit(std::uint64_t stream, std::uint64_t bytes) {
  send([&](wire::Request::Builder r) {
    auto credit = r.initStreamCredit();
    credit.setStream(stream);
    credit.setBytes(bytes);
  });
}

Response AgentTestClient::stream_close(std::uint64_t stream) {
  return call([&](wire::Request::Builder r) { r.initStreamClose().setStream(stream); });
}

Response AgentTestClient::clock_get() {
  return call([](wire::Request::Builder r) { r.setClockGet(); });
}

Response AgentTestClient::clock_set(std::int64_t realtime_ns) {
  return call([&](wire::Request::Builder r) { r.initClockSet().setRealtimeNs(realtime_ns); });
}

Response AgentTestClient::spawn_worker(std::uint32_t uid, std::uint32_t gid, const std::vector<std::uint32_t>& groups) {
  return call([&](wire::Request::Builder r) {
    auto spawn = r.initSpawnWorker();
    spawn.setUid(uid);
    spawn.setGid(gid);
    auto list = spawn.initGroups(static_cast<unsigned>(groups.size()));
    for (unsigned i = 0; i < groups.size(); ++i) list.set(i, groups[i]);
  });
}

Response AgentTestClient::close_worker(std::uint32_t worker_id) {
  return call([&](wire::Request::Builder r) { r.initCloseWorker().setWorker(worker_id); });
}

std::optional<Response> AgentTestClient::next_event(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->get().isEvent()) {
        Response found = std::move(*it);
        pending_.erase(it);
        return found;
      }
    }
    if (!pump(deadline)) return std::nullopt;
  }
}

namespace {
void record_event(StreamCapture& capture, wire::Event::Reader event) {
  if (event.isStreamData()) {
    auto data = event.getStreamData();
    if (data.getAfterTruncation()) capture.saw_truncation = true;
    capture.data.append(reinterpret_cast<const char*>(data.getData().begin()), data.getData().size());
  } else {
    auto end = event.getStreamEnd();
    capture.ended = true;
    capture.reason = end.getReason();
    capture.error_number = end.getErrno();
    capture.message = end.getMessage().cStr();
  }
}

std::uint64_t stream_of(wire::Event::Reader event) {
  return event.isStreamData() ? event.getStreamData().getStream() : event.getStreamEnd().getStream();
}
}  // namespace

std::string AgentTestClient::next_data(std::uint64_t stream, std::chrono::milliseconds limit, bool* truncated) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto event = next_event(std::max(left, std::chrono::milliseconds(1)));
    if (!event) return "";
    auto reader = event->get().getEvent();
    if (stream_of(reader) != stream) {
      record_event(other_streams[stream_of(reader)], reader);
      continue;
    }
    if (reader.isStreamEnd()) return "";
    if (truncated != nullptr) *truncated = reader.getStreamData().getAfterTruncation();
    const auto bytes = reader.getStreamData().getData();
    return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
  }
}

StreamCapture AgentTestClient::read_stream(std::uint64_t stream, std::uint64_t initial, std::uint64_t window,
                                           std::chrono::milliseconds limit) {
  StreamCapture capture = std::move(other_streams[stream]);
  other_streams.erase(stream);
  std::uint64_t granted = initial;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!capture.ended) {
    // Top the window up once half of it is used, as a real consumer would.
    if (granted - capture.data.size() <= window / 2) {
      stream_credit(stream, window);
      granted += window;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto event = next_event(std::max(left, std::chrono::milliseconds(1)));
    if (!event) throw std::runtime_error("stream " + std::to_string(stream) + " did not end in time (" +
                                         std::to_string(capture.data.size()) + " bytes so far)");
    auto reader = event->get().getEvent();
    if (stream_of(reader) != stream) {
      record_event(other_streams[stream_of(reader)], reader);
      continue;
    }
    record_event(capture, reader);
    if (capture.data.size() > granted) {
      throw std::runtime_error("stream " + std::to_string(stream) + " sent " + std::to_string(capture.data.size()) +
                               " bytes with only " + std::to_string(granted) + " granted");
    }
  }
  return capture;
}

}  // namespace provium::agent_test
