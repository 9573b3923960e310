#include "console_connection.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace provium::runner {
namespace {

// Waits for `events` on `fd`; false when the deadline passed first.
bool wait_for(int fd, short events, Deadline deadline) {
  for (;;) {
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, deadline.poll_timeout_ms());
    if (ready > 0) return true;
    if (ready == 0) {
      if (deadline.expired()) return false;
      continue;
    }
    if (errno != EINTR) throw std::runtime_error(std::string("console: poll: ") + std::strerror(errno));
  }
}

}  // namespace

ConsoleConnection::ConsoleConnection(kj::AutoCloseFd fd) : fd_(kj::mv(fd)) {
  const int flags = ::fcntl(fd_.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd_.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
    throw std::runtime_error(std::string("console: cannot make the socket non-blocking: ") + std::strerror(errno));
  }
}

std::optional<std::string> ConsoleConnection::read(std::size_t max, Deadline deadline) {
  std::string buffer(max, '\0');
  for (;;) {
    const ssize_t got = ::read(fd_.get(), buffer.data(), buffer.size());
    if (got >= 0) {
      buffer.resize(static_cast<std::size_t>(got));
      return buffer;
    }
    if (errno == EINTR) continue;
    // A reset is the console going away mid-read: EOF, not an I/O error.
    if (errno == ECONNRESET || errno == EPIPE) return std::string();
    if (errno != EAGAIN) throw std::runtime_error(std::string("console: read: ") + std::strerror(errno));
    if (!wait_for(fd_.get(), POLLIN, deadline)) return std::nullopt;
  }
}

bool ConsoleConnection::at_eof() {
  // recvmsg, not recv: the sandbox allows recvmsg (RPC) but not recvfrom.
  char byte;
  iovec vector{&byte, 1};
  msghdr message{};
  message.msg_iov = &vector;
  message.msg_iovlen = 1;
  const ssize_t got = ::recvmsg(fd_.get(), &message, MSG_PEEK | MSG_DONTWAIT);
  return got == 0 || (got < 0 && (errno == ECONNRESET || errno == EPIPE));
}

bool ConsoleConnection::write(std::string_view data, Deadline deadline) {
  while (!data.empty()) {
    const ssize_t sent = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (sent >= 0) {
      data.remove_prefix(static_cast<std::size_t>(sent));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EPIPE || errno == ECONNRESET) throw std::runtime_error("the console is gone (the VM stopped)");
    if (errno != EAGAIN) throw std::runtime_error(std::string("write: ") + std::strerror(errno));
    if (!wait_for(fd_.get(), POLLOUT, deadline)) return false;
  }
  return true;
}

}  // namespace provium::runner
