#include "command_run.h"

#include "log.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace provium::agent {

CommandRun::CommandRun(EventLoop& loop, ChildReaper& reaper, const SpawnRequest& request,
                       std::vector<std::byte> stdin_data, std::chrono::milliseconds timeout,
                       OnFinished on_finished)
    : loop_(loop),
      reaper_(reaper),
      stdin_data_(std::move(stdin_data)),
      timeout_timer_(loop),
      grace_timer_(loop),
      on_finished_(std::move(on_finished)) {
  SpawnedProcess spawned = spawn_process(request);
  pid_ = spawned.pid;
  reaper_.track(pid_, [this](int wait_status) { on_exit(wait_status); });
  try {
    watch_process(std::move(spawned), timeout);
  } catch (...) {
    // A half-built run has no destructor call; do its work here.
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    reaper_.forget(pid_);
    throw;
  }
}

void CommandRun::watch_process(SpawnedProcess spawned, std::chrono::milliseconds timeout) {
  stdin_fd_ = std::move(spawned.stdin_write);
  stdout_fd_ = std::move(spawned.stdout_read);
  stderr_fd_ = std::move(spawned.stderr_read);
  if (stdin_data_.empty()) {
    close_stdin();  // the command reads end of file at once
  } else {
    stdin_watch_ = loop_.watch(stdin_fd_.get(), EPOLLOUT, [this](std::uint32_t) { feed_stdin(); });
  }
  stdout_watch_ = loop_.watch(stdout_fd_.get(), EPOLLIN,
                              [this](std::uint32_t) { read_stream(stdout_fd_, stdout_watch_, stdout_capture_); });
  stderr_watch_ = loop_.watch(stderr_fd_.get(), EPOLLIN,
                              [this](std::uint32_t) { read_stream(stderr_fd_, stderr_watch_, stderr_capture_); });
  if (timeout.count() > 0) timeout_timer_.arm(timeout, [this] { on_timeout(); });
}

CommandRun::~CommandRun() {
  if (!exited_ && pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    reaper_.forget(pid_);  // it will be reaped as an orphan
  }
}

void CommandRun::feed_stdin() {
  while (stdin_offset_ < stdin_data_.size()) {
    const ssize_t wrote =
        ::write(stdin_fd_.get(), stdin_data_.data() + stdin_offset_, stdin_data_.size() - stdin_offset_);
    if (wrote < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      break;  // EPIPE: the command closed its stdin; the rest is not wanted
    }
    stdin_offset_ += static_cast<std::size_t>(wrote);
  }
  close_stdin();
}

void CommandRun::close_stdin() {
  stdin_watch_.reset();
  stdin_fd_.reset();
  stdin_data_ = {};
}

void CommandRun::read_stream(UniqueFd& fd, Watch& watch, OutputCapture& capture) {
  const ssize_t got = capture.read_from(fd.get());
  if (got > 0 || (got < 0 && (errno == EAGAIN || errno == EINTR))) return;
  watch.reset();  // end of stream (or a broken pipe, which means the same here)
  fd.reset();
  finish_if_done();
}

void CommandRun::drain_after_exit(UniqueFd& fd, Watch& watch, OutputCapture& capture) {
  // Everything the command wrote is already in the pipe; read up to one pipe's
  // capacity so a background writer that keeps the pipe busy cannot hold us here.
  if (!fd.valid()) return;
  const int capacity = ::fcntl(fd.get(), F_GETPIPE_SZ);
  std::size_t budget = capacity > 0 ? static_cast<std::size_t>(capacity) : 65536;
  while (fd.valid() && budget > 0) {
    const std::size_t before = capture.bytes().size() + capture.discarded_bytes();
    const ssize_t got = capture.read_from(fd.get());
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
    }
    if (got <= 0) {
      watch.reset();
      fd.reset();
      return;
    }
    const std::size_t consumed = capture.bytes().size() + capture.discarded_bytes() - before;
    budget -= std::min(budget, consumed);
  }
}

void CommandRun::on_exit(int wait_status) {
  exited_ = true;
  wait_status_ = wait_status;
  timeout_timer_.cancel();
  close_stdin();
  drain_after_exit(stdout_fd_, stdout_watch_, stdout_capture_);
  drain_after_exit(stderr_fd_, stderr_watch_, stderr_capture_);
  if (stdout_fd_.valid() || stderr_fd_.valid()) {
    grace_timer_.arm(kPipeGraceAfterExit, [this] { finish(); });
  }
  finish_if_done();
}

void CommandRun::on_timeout() {
  timed_out_ = true;
  // The whole group: a shell's children would otherwise outlive it and keep
  // the output pipes open.
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
}

void CommandRun::finish_if_done() {
  if (exited_ && !stdout_fd_.valid() && !stderr_fd_.valid()) finish();
}

void CommandRun::finish() {
  if (finished_) return;
  finished_ = true;
  grace_timer_.cancel();
  stdout_watch_.reset();
  stdout_fd_.reset();
  stderr_watch_.reset();
  stderr_fd_.reset();

  RunOutcome outcome;
  if (timed_out_) {
    outcome.status = RunOutcome::Status::kTimedOut;
    outcome.exit_code = -2;
  } else if (WIFSIGNALED(wait_status_)) {
    outcome.status = RunOutcome::Status::kSignalled;
    outcome.exit_code = -1;
    outcome.signal = WTERMSIG(wait_status_);
  } else {
    outcome.status = RunOutcome::Status::kExited;
    outcome.exit_code = WEXITSTATUS(wait_status_);
  }
  outcome.stdout_discarded = stdout_capture_.discarded_bytes();
  outcome.stderr_discarded = stderr_capture_.discarded_bytes();
  outcome.stdout_bytes = stdout_capture_.take();
  outcome.stderr_bytes = stderr_capture_.take();
  auto callback = std::move(on_finished_);
  callback(std::move(outcome));
}

}  // namespace provium::agent
