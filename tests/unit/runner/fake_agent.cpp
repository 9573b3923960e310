#include "fake_agent.h"

#include <frame.h>

#include <capnp/serialize.h>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
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

std::map<std::string, std::uint32_t> FakeAgent::dirs() const {
  std::lock_guard lock(mutex_);
  return dirs_;
}

std::size_t FakeAgent::open_handles() const {
  std::lock_guard lock(mutex_);
  return handles_.size();
}

std::vector<std::string> FakeAgent::entropy() const {
  std::lock_guard lock(mutex_);
  return entropy_;
}

std::uint64_t FakeAgent::credit_granted() const {
  std::lock_guard lock(mutex_);
  return credit_granted_;
}

void FakeAgent::send_stream_data(std::uint64_t id, const std::string& data) {
  capnp::MallocMessageBuilder message;
  auto response = message.initRoot<wire::Response>();
  auto event = response.initEvent().initStreamData();
  event.setStream(id);
  event.setData(as_data(data));
  send(message);
}

// Sends what the stream's credit allows; ends it once all is sent.
void FakeAgent::pump_stream(std::uint64_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  FakeStream& stream = it->second;
  while (!stream.pending.empty() && stream.credit > 0) {
    const std::size_t n = std::min<std::size_t>({kStreamChunk, stream.pending.size(), stream.credit});
    send_stream_data(id, stream.pending.substr(0, n));
    stream.pending.erase(0, n);
    stream.credit -= n;
  }
  if (!stream.pending.empty() || stream.follow) return;
  capnp::MallocMessageBuilder message;
  auto end = message.initRoot<wire::Response>().initEvent().initStreamEnd();
  end.setStream(id);
  end.setReason(wire::StreamEndReason::SOURCE_ENDED);
  send(message);
  streams_.erase(it);
  answer_exited_waits();
}

bool FakeAgent::exited(const FakeProcess& process) const {
  return streams_.count(process.stdout_stream) == 0 && streams_.count(process.stderr_stream) == 0;
}

void FakeAgent::send_process_state(std::uint64_t id, const FakeProcess* exited) {
  capnp::MallocMessageBuilder message;
  auto response = message.initRoot<wire::Response>();
  response.setId(id);
  auto state = response.initProcessState();
  state.setRunning(exited == nullptr);
  if (exited != nullptr) {
    state.setStatus(exited->result.status);
    state.setExitCode(exited->result.exit_code);
    state.setSignal(exited->result.signal);
  }
  send(message);
}

void FakeAgent::answer_exited_waits() {
  for (auto it = processes_.begin(); it != processes_.end();) {
    if (it->second.waits.empty() || !exited(it->second)) {
      ++it;
      continue;
    }
    for (auto id : it->second.waits) send_process_state(id, &it->second);
    it = processes_.erase(it);  // like the agent: forgotten once an exit was reported
  }
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
    case wire::Request::STAT: {
      std::lock_guard lock(mutex_);
      const std::string path = request.getStat().getPath();
      if (auto file = files_.find(path); file != files_.end()) {
        auto stat = response.initStat();
        stat.setSize(file->second.size());
        stat.setMtimeNs(1700000000123456789);
        stat.setPerm(0644);
        stat.setEntryType(wire::EntryType::FILE);
      } else if (auto dir = dirs_.find(path); dir != dirs_.end()) {
        auto stat = response.initStat();
        stat.setPerm(dir->second);
        stat.setEntryType(wire::EntryType::DIRECTORY);
      } else {
        auto error = response.initError();
        error.setErrno(ENOENT);
        error.setMessage(path + ": No such file or directory");
      }
      break;
    }
    case wire::Request::LISTDIR: {
      std::lock_guard lock(mutex_);
      const std::string prefix = std::string(request.getListdir().getPath()) + "/";
      std::vector<std::pair<std::string, wire::EntryType>> entries;
      for (const auto& [path, content] : files_) {
        if (path.rfind(prefix, 0) == 0 && path.find('/', prefix.size()) == std::string::npos) {
          entries.emplace_back(path.substr(prefix.size()), wire::EntryType::FILE);
        }
      }
      for (const auto& [path, perm] : dirs_) {
        if (path.rfind(prefix, 0) == 0 && path.find('/', prefix.size()) == std::string::npos) {
          entries.emplace_back(path.substr(prefix.size()), wire::EntryType::DIRECTORY);
        }
      }
      std::sort(entries.begin(), entries.end());
      auto list = response.initDirEntries(static_cast<unsigned>(entries.size()));
      for (unsigned i = 0; i < list.size(); ++i) {
        list[i].setName(entries[i].first);
        list[i].setEntryType(entries[i].second);
      }
      break;
    }
    case wire::Request::MKDIR: {
      std::lock_guard lock(mutex_);
      auto mkdir = request.getMkdir();
      std::string path = mkdir.getPath();
      if (dirs_.count(path) && !mkdir.getParents()) {
        auto error = response.initError();
        error.setErrno(EEXIST);
        error.setMessage(path + ": File exists");
        break;
      }
      if (mkdir.getParents()) {
        for (auto slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
          dirs_.try_emplace(path.substr(0, slash), 0755);
        }
      }
      dirs_[path] = mkdir.getPerm();
      response.setDone();
      break;
    }
    case wire::Request::UNLINK: {
      std::lock_guard lock(mutex_);
      const std::string path = request.getUnlink().getPath();
      if (files_.erase(path) + dirs_.erase(path) == 0) {
        auto error = response.initError();
        error.setErrno(ENOENT);
        error.setMessage(path + ": No such file or directory");
      } else {
        response.setDone();
      }
      break;
    }
    case wire::Request::RENAME: {
      std::lock_guard lock(mutex_);
      auto rename = request.getRename();
      auto node = files_.extract(std::string(rename.getFrom()));
      if (node.empty()) {
        auto error = response.initError();
        error.setErrno(ENOENT);
        error.setMessage("No such file or directory");
        break;
      }
      node.key() = rename.getTo();
      files_.insert_or_assign(node.key(), node.mapped());
      response.setDone();
      break;
    }
    case wire::Request::READ_FILE_STREAM: {
      auto open = request.getReadFileStream();
      std::string content;
      {
        std::lock_guard lock(mutex_);
        const auto it = files_.find(open.getPath());
        if (it == files_.end()) {
          auto error = response.initError();
          error.setErrno(ENOENT);
          error.setMessage("No such file or directory");
          break;
        }
        content = it->second;
      }
      const std::uint64_t id = next_stream_++;
      auto started = response.initStreamStarted();
      started.setStream(id);
      started.setSize(content.size());
      send(message);
      // Data for a stream nobody opened must be dropped by the client.
      send_stream_data(id + 1000, "stray");
      streams_[id] = FakeStream{content, open.getInitialCredit()};
      pump_stream(id);
      return;
    }
    case wire::Request::TAIL_FILE: {
      auto tail = request.getTailFile();
      std::string content;
      {
        std::lock_guard lock(mutex_);
        content = files_[tail.getPath()];
      }
      std::int64_t start = (tail.getOrigin() == wire::TailOrigin::END ? static_cast<std::int64_t>(content.size()) : 0) +
                           tail.getOffset();
      start = std::clamp<std::int64_t>(start, 0, static_cast<std::int64_t>(content.size()));
      const std::uint64_t id = next_stream_++;
      auto started = response.initStreamStarted();
      started.setStream(id);
      started.setStartOffset(static_cast<std::uint64_t>(start));
      started.setSize(content.size());
      send(message);
      streams_[id] = FakeStream{content.substr(static_cast<std::size_t>(start)), tail.getInitialCredit(), true};
      pump_stream(id);
      return;
    }
    case wire::Request::STREAM_CREDIT: {
      auto credit = request.getStreamCredit();
      {
        std::lock_guard lock(mutex_);
        credit_granted_ += credit.getBytes();
      }
      if (auto it = streams_.find(credit.getStream()); it != streams_.end()) it->second.credit += credit.getBytes();
      pump_stream(credit.getStream());
      return;  // never answered
    }
    case wire::Request::OPEN_FILE: {
      std::lock_guard lock(mutex_);
      auto open = request.getOpenFile();
      const std::string path = open.getPath();
      if (!files_.count(path) && !(open.getMode() & wire::OPEN_CREATE)) {
        auto error = response.initError();
        error.setErrno(ENOENT);
        error.setMessage(path + ": No such file or directory");
        break;
      }
      if (open.getMode() & wire::OPEN_TRUNCATE || !files_.count(path)) files_[path] = "";
      const std::uint64_t handle = next_handle_++;
      handles_[handle] = FakeHandle{path, 0};
      response.setHandle(handle);
      break;
    }
    case wire::Request::FILE_READ:
    case wire::Request::FILE_WRITE:
    case wire::Request::FILE_SEEK:
    case wire::Request::FILE_TELL:
    case wire::Request::FILE_CLOSE: {
      std::lock_guard lock(mutex_);
      const std::uint64_t id = request.isFileRead()    ? request.getFileRead().getHandle()
                               : request.isFileWrite() ? request.getFileWrite().getHandle()
                               : request.isFileSeek()  ? request.getFileSeek().getHandle()
                               : request.isFileTell()  ? request.getFileTell().getHandle()
                                                       : request.getFileClose().getHandle();
      auto it = handles_.find(id);
      if (it == handles_.end()) {
        auto error = response.initError();
        error.setErrno(EBADF);
        error.setMessage("Bad file descriptor");
        break;
      }
      FakeHandle& handle = it->second;
      std::string& content = files_[handle.path];
      if (request.isFileRead()) {
        const std::uint64_t start = std::min<std::uint64_t>(handle.cursor, content.size());
        const std::string data = content.substr(start, request.getFileRead().getMaxBytes());
        handle.cursor = start + data.size();
        response.setData(as_data(data));
      } else if (request.isFileWrite()) {
        const std::string data = bytes(request.getFileWrite().getData());
        if (content.size() < handle.cursor + data.size()) content.resize(handle.cursor + data.size());
        content.replace(handle.cursor, data.size(), data);
        handle.cursor += data.size();
        response.setWritten(data.size());
      } else if (request.isFileSeek()) {
        auto seek = request.getFileSeek();
        const std::int64_t base = seek.getWhence() == wire::SeekWhence::SET   ? 0
                                  : seek.getWhence() == wire::SeekWhence::CUR ? static_cast<std::int64_t>(handle.cursor)
                                                                              : static_cast<std::int64_t>(content.size());
        handle.cursor = static_cast<std::uint64_t>(base + seek.getOffset());
        response.setOffset(handle.cursor);
      } else if (request.isFileTell()) {
        response.setOffset(handle.cursor);
      } else {
        handles_.erase(it);
        response.setDone();
      }
      break;
    }
    case wire::Request::SYSCALL: {
      // The fake's syscall: ret = sum of args, bufs come back upper-cased.
      auto call = request.getSyscall();
      std::int64_t sum = call.getNr();
      for (auto arg : call.getArgs()) sum += arg;
      auto result = response.initSyscall();
      result.setRet(sum);
      result.setErrno(sum < 0 ? EINVAL : 0);
      auto bufs = result.initOutBufs(call.getBufs().size());
      for (unsigned i = 0; i < bufs.size(); ++i) {
        std::string text = bytes(call.getBufs()[i]) + "@" + std::to_string(call.getPtrs().size() > i ? call.getPtrs()[i] : 9);
        for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        bufs.set(i, as_data(text));
      }
      break;
    }
    case wire::Request::IOCTL: {
      auto call = request.getIoctl();
      auto result = response.initIoctl();
      result.setRet(call.getFd() + static_cast<std::int64_t>(call.getCmd()) + static_cast<std::int64_t>(call.getArg()));
      std::string data = call.hasData() ? bytes(call.getData()) : std::string("<none>");
      std::reverse(data.begin(), data.end());
      result.setOutData(as_data(data));
      auto bufs = result.initOutBufs(call.getBufs().size());
      for (unsigned i = 0; i < bufs.size(); ++i) bufs.set(i, as_data(bytes(call.getBufs()[i]) + std::to_string(call.getPtrOffsets()[i])));
      break;
    }
    case wire::Request::CLOCK_GET: {
      auto clock = response.initClock();
      clock.setRealtimeNs(clock_ns_);
      clock.setMonotonicNs(1);
      break;
    }
    case wire::Request::CLOCK_SET:
      clock_ns_ = request.getClockSet().getRealtimeNs();
      response.setDone();
      break;
    case wire::Request::ADD_ENTROPY: {
      if (request.getAddEntropy().size() == 0) {  // as the real agent: nothing to add is an error
        auto error = response.initError();
        error.setErrno(EINVAL);
        error.setMessage("no entropy given");
        break;
      }
      std::lock_guard lock(mutex_);
      entropy_.push_back(bytes(request.getAddEntropy()));
      response.setDone();
      break;
    }
    case wire::Request::SPAWN: {
      auto spawn = request.getSpawn();
      auto run = spawn.getCommand();
      SeenRun seen;
      for (auto word : run.getArgv()) seen.argv.emplace_back(word);
      seen.stdin_data = bytes(run.getStdin());
      seen.timeout_ms = run.getTimeoutMs();
      {
        std::lock_guard lock(mutex_);
        runs_.push_back(seen);
      }
      FakeProcess process{on_run_(seen), next_stream_++, next_stream_++, {}};
      const std::uint64_t id = next_process_++;
      auto started = response.initProcessStarted();
      started.setProcess(id);
      started.setPid(static_cast<std::int32_t>(100 + id));
      started.setStdoutStream(process.stdout_stream);
      started.setStderrStream(process.stderr_stream);
      send(message);
      streams_[process.stdout_stream] = FakeStream{process.result.stdout_data, spawn.getInitialCredit()};
      streams_[process.stderr_stream] = FakeStream{process.result.stderr_data, spawn.getInitialCredit()};
      const auto out = process.stdout_stream;
      const auto err = process.stderr_stream;
      processes_.emplace(id, std::move(process));
      pump_stream(out);
      pump_stream(err);
      return;
    }
    case wire::Request::PROCESS_SIGNAL: {
      // Like the agent: a process that has exited cannot be signalled.
      auto it = processes_.find(request.getProcessSignal().getProcess());
      if (it == processes_.end() || exited(it->second)) {
        auto error = response.initError();
        error.setErrno(ESRCH);
        error.setMessage("processSignal: the process has already exited");
      } else {
        response.setDone();
      }
      break;
    }
    case wire::Request::PROCESS_WAIT: {
      auto wait = request.getProcessWait();
      auto it = processes_.find(wait.getProcess());
      if (it == processes_.end()) {
        auto error = response.initError();
        error.setErrno(ESRCH);
        error.setMessage("processWait: no such process");
        break;
      }
      if (exited(it->second)) {
        send_process_state(request.getId(), &it->second);
        processes_.erase(it);
      } else if (!wait.getForever() && wait.getTimeoutMs() == 0) {
        send_process_state(request.getId(), nullptr);
      } else {
        it->second.waits.push_back(request.getId());
      }
      return;
    }
    case wire::Request::STREAM_CLOSE:
      // Like the agent: a stream that ended (or never was) is unknown.
      if (streams_.erase(request.getStreamClose().getStream()) == 0) {
        auto error = response.initError();
        error.setErrno(ENOENT);
        error.setMessage("streamClose: no such stream");
      } else {
        response.setDone();
      }
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
