// Where event frames go (docs/events.md): a file (--save-events), stdout
// (--events-stdout) or the clients of a listening Unix socket
// (--events-socket). Each write goes straight to the kernel, so a run that is
// killed keeps every frame it had emitted.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "owned_fd.h"

namespace provium {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Writes one whole frame. Throws std::runtime_error naming the sink.
  virtual void write(std::string_view frame) = 0;
};

// A file created (or truncated) with mode 0600; or any fd we own (stdout's dup).
class FdEventSink final : public EventSink {
 public:
  FdEventSink(OwnedFd fd, std::string what) : fd_(std::move(fd)), what_(std::move(what)) {}
  static std::unique_ptr<FdEventSink> create_file(const std::filesystem::path& path);
  static std::unique_ptr<FdEventSink> standard_output();
  void write(std::string_view frame) override;

 private:
  OwnedFd fd_;
  std::string what_;
};

// Listens on a Unix socket and sends every frame to every client connected
// when it is emitted. A client that falls more than kMaxPendingBytes behind
// is dropped rather than slowing the run. The socket file is removed on
// destruction, after a short last flush.
class SocketEventSink final : public EventSink {
 public:
  static constexpr std::size_t kMaxPendingBytes = 8 * 1024 * 1024;

  // Replaces a socket nobody listens on (left by a killed run); throws
  // std::runtime_error when anything else exists at `path` or the socket
  // cannot be bound there.
  explicit SocketEventSink(std::filesystem::path path);
  SocketEventSink(const SocketEventSink&) = delete;
  SocketEventSink& operator=(const SocketEventSink&) = delete;
  ~SocketEventSink() override;
  void write(std::string_view frame) override;
  std::size_t clients() const { return clients_.size(); }

 private:
  struct Client {
    OwnedFd fd;
    std::string pending;
  };
  void accept_waiting();
  // Sends what the kernel takes now; false when the client is gone.
  static bool flush(Client& client);

  std::filesystem::path path_;
  OwnedFd listener_;
  std::vector<Client> clients_;
};

}  // namespace provium
