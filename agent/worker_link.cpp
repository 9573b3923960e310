#include "worker_link.h"

#include "agent.capnp.h"
#include "frame.h"
#include "log.h"
#include "responses.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

namespace provium::agent {
namespace wire = provium::wire::agent;

namespace {

constexpr int kWorkerChannelFd = 3;
constexpr const char* kOwnExecutable = "/proc/self/exe";

std::vector<std::string> worker_arguments(std::uint32_t worker, const WorkerCredentials& credentials) {
  return {"provium-agent", "--connect-fd", std::to_string(kWorkerChannelFd),
          "--worker", std::to_string(worker),
          "--worker-uid", std::to_string(credentials.uid),
          "--worker-gid", std::to_string(credentials.gid),
          "--worker-groups", format_group_list(credentials.groups)};
}

// In the forked child: only exec (or say why not and exit).
[[noreturn]] void become_worker(int channel_fd, char* const* argv) {
  if (channel_fd == kWorkerChannelFd) {
    ::fcntl(channel_fd, F_SETFD, 0);
  } else {
    ::dup2(channel_fd, kWorkerChannelFd);
  }
  // The agent blocks SIGCHLD and init's signals; a new image should start
  // with none blocked (the worker blocks what it needs itself).
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execv(kOwnExecutable, argv);
  const std::string message = std::string("provium-agent: exec ") + kOwnExecutable + " for a worker: " +
                              std::strerror(errno) + "\n";
  [[maybe_unused]] ssize_t ignored = ::write(STDERR_FILENO, message.data(), message.size());
  ::_exit(127);
}

OutboundFrame hello_request(std::uint64_t id) {
  auto message = std::make_unique<capnp::MallocMessageBuilder>(32);
  auto request = message->initRoot<wire::Request>();
  request.setId(id);
  request.initHello().setProtocolVersion(wire::PROTOCOL_VERSION);
  return OutboundFrame(std::move(message));
}

}  // namespace

WorkerLink::WorkerLink(EventLoop& loop, ChildReaper& reaper, ProcessRetirement& retirement, std::uint32_t worker,
                       const WorkerCredentials& credentials, std::uint64_t spawn_id, Hooks hooks)
    : worker_(worker), reaper_(reaper), retirement_(retirement), hooks_(std::move(hooks)), awaiting_hello_(spawn_id) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    throw std::system_error(errno, std::generic_category(), "spawnWorker: socketpair");
  }
  UniqueFd ours(fds[0]);
  UniqueFd theirs(fds[1]);
  // Everything the child needs, built before fork.
  const std::vector<std::string> arguments = worker_arguments(worker, credentials);
  std::vector<char*> argv;
  for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);

  pid_ = ::fork();
  if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "spawnWorker: fork");
  if (pid_ == 0) become_worker(theirs.get(), argv.data());
  reaper_.track(pid_, [this](int wait_status) { exit_status_ = wait_status; });
  try {
    open_channel(loop, std::move(ours));
  } catch (...) {
    ::kill(pid_, SIGKILL);
    retirement_.retire(pid_, nullptr);  // a half-built link gets no destructor
    throw;
  }
  channel_->send(hello_request(spawn_id));
}

void WorkerLink::open_channel(EventLoop& loop, UniqueFd fd) {
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK);
  channel_.emplace(loop, std::move(fd), FrameChannel::Kind::kSocket,
                   FrameChannel::Handlers{
                       .on_frame = [this](kj::Array<capnp::word> body) { on_frame(std::move(body)); },
                       .on_garbage = [this](const std::string& reason) {
                         log_error("worker " + std::to_string(worker_) + " sent a bad frame: " + reason);
                       },
                       .on_disconnected = [this] { on_channel_gone(); },
                       .on_connected = nullptr,
                       .on_drained = nullptr,
                       .on_room = nullptr,
                   });
}

WorkerLink::~WorkerLink() {
  channel_.reset();
  // Reaped already (the reaper forgot it then), or handed over by close().
  if (!exit_status_ && !retired_) retirement_.retire(pid_, nullptr);
}

void WorkerLink::forward(std::uint64_t id, bool answered, kj::Array<capnp::word> body) {
  if (answered) {
    if (unanswered_.size() >= kMaxRequestsInFlightPerWorker) {
      throw std::system_error(EAGAIN, std::generic_category(),
                              "worker " + std::to_string(worker_) + " already has " +
                                  std::to_string(kMaxRequestsInFlightPerWorker) + " requests in flight");
    }
    unanswered_.insert(id);
  }
  channel_->send(OutboundFrame(std::move(body)));
}

void WorkerLink::close(std::function<void(int wait_status)> on_exit) {
  channel_.reset();
  retired_ = true;
  if (exit_status_) {
    on_exit(*exit_status_);
  } else {
    retirement_.retire(pid_, std::move(on_exit));
  }
}

void WorkerLink::on_frame(kj::Array<capnp::word> body) {
  std::uint64_t id = 0;
  bool is_event = false;
  bool hello_ok = false;
  std::string error;
  try {
    capnp::FlatArrayMessageReader message(body, frame::reader_options());
    auto response = message.getRoot<wire::Response>();
    id = response.getId();
    is_event = response.isEvent();
    hello_ok = response.isHelloOk();
    if (response.isError()) error = response.getError().getMessage().cStr();
  } catch (const kj::Exception& e) {
    log_error("worker " + std::to_string(worker_) + " sent a malformed frame: " + e.getDescription().cStr());
    return;
  }
  if (awaiting_hello_ && id == *awaiting_hello_ && !is_event) {
    const std::uint64_t spawn_id = *std::exchange(awaiting_hello_, std::nullopt);
    hooks_.to_host(hello_ok ? worker_started_response(spawn_id, worker_, pid_)
                            : error_response(spawn_id, 0, "spawnWorker: the worker refused hello: " + error));
    return;
  }
  if (!is_event) {
    auto found = unanswered_.find(id);
    if (found != unanswered_.end()) unanswered_.erase(found);
  }
  hooks_.to_host(OutboundFrame(std::move(body)));
  // The host is slow: let the worker's own output back up instead of ours.
  if (!hooks_.host_has_room()) channel_->set_reading(false);
}

void WorkerLink::on_channel_gone() {
  fail_unanswered("worker " + std::to_string(worker_) + " (pid " + std::to_string(pid_) +
                  ") went away before answering; see the guest console");
  hooks_.on_gone();
}

void WorkerLink::fail_unanswered(const std::string& why) {
  if (awaiting_hello_) {
    hooks_.to_host(error_response(*std::exchange(awaiting_hello_, std::nullopt), 0, "spawnWorker: " + why));
  }
  for (std::uint64_t id : unanswered_) hooks_.to_host(error_response(id, EPIPE, why));
  unanswered_.clear();
}

}  // namespace provium::agent
