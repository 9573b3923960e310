#include "capture_pump.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace provium::netsetup {

std::unique_ptr<CapturePump> CapturePump::start(PacketCapture capture, OwnedFd& reader) {
  const std::string what = fmt::format("capture on `{}`", capture.link_name());
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) throw std::runtime_error(fmt::format("{}: pipe: {}", what, strerror(errno)));
  OwnedFd read_end(ends[0]);
  OwnedFd write_end(ends[1]);
  // Only our end waits without blocking, so a slow reader never stalls the
  // thread past destruction (PcapWriter polls the stop eventfd meanwhile).
  if (::fcntl(write_end.get(), F_SETFL, O_NONBLOCK) != 0) {
    throw std::runtime_error(fmt::format("{}: O_NONBLOCK: {}", what, strerror(errno)));
  }
  OwnedFd stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop.valid()) throw std::runtime_error(fmt::format("{}: eventfd: {}", what, strerror(errno)));
  std::unique_ptr<CapturePump> pump(new CapturePump(std::move(capture), std::move(write_end), std::move(stop)));
  reader = std::move(read_end);
  return pump;
}

CapturePump::CapturePump(PacketCapture capture, OwnedFd writer, OwnedFd stop)
    : capture_(std::move(capture)), writer_(std::move(writer)), stop_(std::move(stop)) {
  thread_ = std::thread([this] { run(); });
}

CapturePump::~CapturePump() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t ignored = ::write(stop_.get(), &one, sizeof one);
  thread_.join();
}

void CapturePump::run() {
  // A write to a pipe nobody reads raises SIGPIPE in the writing thread;
  // blocked here, it becomes EPIPE, and the pending signal ends with the thread.
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
  try {
    const int pipe_fd = writer_.get();
    PcapWriter out(kj::AutoCloseFd(writer_.release()), 262144, stop_.get());
    for (;;) {
      // The pipe's end is watched for nothing but its errors: POLLERR once
      // the reader has closed, even while no frame comes to be written.
      pollfd watched[3] = {{.fd = capture_.fd(), .events = POLLIN, .revents = 0},
                           {.fd = pipe_fd, .events = 0, .revents = 0},
                           {.fd = stop_.get(), .events = POLLIN, .revents = 0}};
      const int ready = ::poll(watched, 3, -1);
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) break;
      if (watched[2].revents != 0 || watched[1].revents != 0) break;
      // Readable, or an error such as the link's removal, which drain() throws.
      if (watched[0].revents != 0) capture_.drain(out);
    }
  } catch (const std::exception&) {
    // The reader left, the link went away, or the pump was stopped: the
    // capture ends here either way, and the reader sees the end of the file.
  }
  finished_ = true;
}

}  // namespace provium::netsetup
