#include "async_process.h"

#include "responses.h"

#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace provium::agent {

AsyncProcess::AsyncProcess(EventLoop& loop, ChildReaper& reaper, pid_t pid, UniqueFd stdin_write, Send send,
                           std::function<void()> on_exit_reported)
    : loop_(loop),
      reaper_(reaper),
      pid_(pid),
      send_(std::move(send)),
      on_exit_reported_(std::move(on_exit_reported)),
      stdin_fd_(std::move(stdin_write)) {
  reaper_.track(pid_, [this](int wait_status) { on_exit(wait_status); });
}

AsyncProcess::~AsyncProcess() {
  if (!wait_status_) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    reaper_.forget(pid_);
  }
}

void AsyncProcess::write_stdin(std::optional<std::uint64_t> id, std::vector<std::byte> data) {
  if (!stdin_fd_.valid() || close_stdin_when_flushed_) {
    throw std::system_error(EPIPE, std::generic_category(),
                            "processWrite: stdin of pid " + std::to_string(pid_) + " is closed");
  }
  queued_stdin_bytes_ += data.size();
  stdin_queue_.push_back(QueuedWrite{id, std::move(data), 0});
  feed_stdin();
}

void AsyncProcess::feed_stdin() {
  while (!stdin_queue_.empty()) {
    QueuedWrite& front = stdin_queue_.front();
    while (front.offset < front.data.size()) {
      const ssize_t wrote = ::write(stdin_fd_.get(), front.data.data() + front.offset, front.data.size() - front.offset);
      if (wrote < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) {
          if (!stdin_watch_.active()) {
            stdin_watch_ = loop_.watch(stdin_fd_.get(), EPOLLOUT, [this](std::uint32_t) { feed_stdin(); });
          }
          return;
        }
        // EPIPE: nobody reads stdin any more.
        fail_queued_writes(errno, "the process closed its stdin");
        release_stdin();
        return;
      }
      front.offset += static_cast<std::size_t>(wrote);
      queued_stdin_bytes_ -= static_cast<std::size_t>(wrote);
    }
    if (front.id) send_(written_response(*front.id, front.data.size()));
    stdin_queue_.pop_front();
  }
  stdin_watch_.reset();
  if (close_stdin_when_flushed_) release_stdin();
}

void AsyncProcess::fail_queued_writes(int error_number, const char* why) {
  for (const QueuedWrite& write : stdin_queue_) {
    if (write.id) {
      send_(error_response(*write.id, error_number,
                           "processWrite to pid " + std::to_string(pid_) + ": " + why + " (" +
                               std::to_string(write.offset) + " of " + std::to_string(write.data.size()) +
                               " bytes written)"));
    }
  }
  stdin_queue_.clear();
  queued_stdin_bytes_ = 0;
}

void AsyncProcess::close_stdin() {
  close_stdin_when_flushed_ = true;
  if (stdin_queue_.empty()) release_stdin();
}

void AsyncProcess::release_stdin() {
  stdin_watch_.reset();
  stdin_fd_.reset();
}

void AsyncProcess::signal(int signo, bool group) {
  if (wait_status_) {
    throw std::system_error(ESRCH, std::generic_category(),
                            "processSignal: pid " + std::to_string(pid_) + " has already exited");
  }
  if (::kill(group ? -pid_ : pid_, signo) != 0) {
    throw std::system_error(errno, std::generic_category(),
                            "processSignal " + std::to_string(signo) + " to " + (group ? "group " : "pid ") +
                                std::to_string(pid_));
  }
}

void AsyncProcess::wait(std::uint64_t id, std::optional<std::chrono::milliseconds> limit) {
  if (wait_status_) {
    report_exit(id);
    return;
  }
  if (limit && limit->count() == 0) {
    send_(process_state_response(id, std::nullopt));
    return;
  }
  if (waits_.size() >= kMaxWaitsPerProcess) {
    throw std::system_error(EBUSY, std::generic_category(),
                            "processWait: " + std::to_string(kMaxWaitsPerProcess) + " waits already pending for pid " +
                                std::to_string(pid_));
  }
  const std::uint64_t wait = next_wait_++;
  std::unique_ptr<OneShotTimer> timer;
  if (limit) {
    timer = std::make_unique<OneShotTimer>(loop_);
    timer->arm(*limit, [this, wait, id] {
      send_(process_state_response(id, std::nullopt));
      // The timer's own callback is running: drop it afterwards.
      loop_.defer(liveness_.guard([this, wait] { waits_.erase(wait); }));
    });
  }
  waits_.emplace(wait, std::make_pair(id, std::move(timer)));
}

void AsyncProcess::on_exit(int wait_status) {
  wait_status_ = wait_status;
  // Writes still queued can never be read now.
  fail_queued_writes(EPIPE, "the process exited");
  release_stdin();
  auto waits = std::move(waits_);
  waits_.clear();
  for (auto& [wait, entry] : waits) {
    if (entry.second && !entry.second->armed()) continue;  // already answered "running"
    report_exit(entry.first);
  }
}

void AsyncProcess::report_exit(std::uint64_t id) {
  send_(process_state_response(id, wait_status_));
  if (exit_reported_) return;
  exit_reported_ = true;
  loop_.defer(liveness_.guard([this] { on_exit_reported_(); }));
}

}  // namespace provium::agent
