#include "event_sinks.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

namespace provium {
namespace {

constexpr auto kLastFlush = std::chrono::seconds(2);

std::runtime_error sys_error(const std::string& what) {
  return std::runtime_error(fmt::format("{}: {}", what, std::strerror(errno)));
}

bool nobody_listens(const sockaddr_un& address) {
  OwnedFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe.valid()) return false;
  return ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 &&
         errno == ECONNREFUSED;
}

}  // namespace

std::unique_ptr<FdEventSink> FdEventSink::create_file(const std::filesystem::path& path) {
  OwnedFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) throw sys_error(fmt::format("--save-events {}", path.string()));
  // An existing file keeps its mode through O_TRUNC: events name every test, keep them private.
  if (::fchmod(fd.get(), 0600) != 0) throw sys_error(fmt::format("--save-events {}: chmod", path.string()));
  return std::make_unique<FdEventSink>(std::move(fd), "--save-events " + path.string());
}

std::unique_ptr<FdEventSink> FdEventSink::standard_output() {
  OwnedFd fd(::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3));
  if (!fd.valid()) throw sys_error("--events-stdout: duplicating stdout");
  return std::make_unique<FdEventSink>(std::move(fd), "--events-stdout");
}

void FdEventSink::write(std::string_view frame) {
  while (!frame.empty()) {
    const ssize_t wrote = ::write(fd_.get(), frame.data(), frame.size());
    if (wrote < 0) {
      if (errno == EINTR) continue;
      throw sys_error(what_);
    }
    frame.remove_prefix(static_cast<std::size_t>(wrote));
  }
}

SocketEventSink::SocketEventSink(std::filesystem::path path) : path_(std::move(path)) {
  const std::string where = "--events-socket " + path_.string();
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path_.native().size() >= sizeof(address.sun_path)) {
    throw std::runtime_error(fmt::format("{}: the path is longer than the {} bytes a Unix socket path may have", where,
                                         sizeof(address.sun_path) - 1));
  }
  std::memcpy(address.sun_path, path_.c_str(), path_.native().size());
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    // A socket nobody listens on is what a killed run leaves: take its place. Anything else stays.
    if (!S_ISSOCK(st.st_mode) || !nobody_listens(address)) {
      throw std::runtime_error(
          fmt::format("{}: something already exists there (and is not a dead socket); remove it or choose another path",
                      where));
    }
    ::unlink(path_.c_str());
  }
  listener_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listener_.valid()) throw sys_error(where + ": socket");
  if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    throw sys_error(where + ": bind");
  }
  if (::chmod(path_.c_str(), 0600) != 0 || ::listen(listener_.get(), 16) != 0) {
    const auto error = sys_error(where);
    ::unlink(path_.c_str());
    throw error;
  }
}

SocketEventSink::~SocketEventSink() {
  // Give connected clients a moment to read what is still queued for them.
  const auto deadline = std::chrono::steady_clock::now() + kLastFlush;
  for (auto& client : clients_) {
    while (!client.pending.empty() && flush(client) && !client.pending.empty()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd waiting{client.fd.get(), POLLOUT, 0};
      if (::poll(&waiting, 1, static_cast<int>(left.count())) <= 0) break;
    }
  }
  clients_.clear();
  listener_.reset();
  ::unlink(path_.c_str());
}

void SocketEventSink::accept_waiting() {
  for (;;) {
    OwnedFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client.valid()) return;  // EAGAIN: nobody else is waiting (other errors: try again next frame)
    clients_.push_back(Client{std::move(client), {}});
  }
}

bool SocketEventSink::flush(Client& client) {
  while (!client.pending.empty()) {
    const ssize_t sent = ::send(client.fd.get(), client.pending.data(), client.pending.size(),
                                MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    client.pending.erase(0, static_cast<std::size_t>(sent));
  }
  return true;
}

void SocketEventSink::write(std::string_view frame) {
  accept_waiting();
  std::erase_if(clients_, [&](Client& client) {
    if (client.pending.size() + frame.size() > kMaxPendingBytes) return true;
    client.pending.append(frame);
    return !flush(client);
  });
}

}  // namespace provium
