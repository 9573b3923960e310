#include "console_hub.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace provium {
namespace {

constexpr std::size_t kChunk = 16 * 1024;

}  // namespace

class ConsoleHub::Channel {
 public:
  Channel(ConsoleHub& hub, kj::Own<kj::AsyncIoStream> socket, bool output, bool input)
      : hub_(hub), socket_(kj::mv(socket)), output_(output), input_(input),
        read_buffer_(kj::heapArray<kj::byte>(kChunk)) {
    if (!output_) shut_down();
    reader_ = read_loop().eagerlyEvaluate([this](kj::Exception&&) { finish(); });
  }

  bool finished() const { return finished_; }

  void deliver(std::string_view bytes) {
    if (!output_ || finished_ || shut_down_) return;
    if (queue_.size() + bytes.size() > kChannelQueueBytes) {
      dropped_ += bytes.size();
      return;
    }
    if (dropped_ != 0) {
      queue_ += fmt::format("\r\n[provium: {} console bytes dropped: the reader fell behind]\r\n", dropped_);
      dropped_ = 0;
    }
    queue_.append(bytes);
    kick();
  }

  // Sends what is queued; ends the stream once the console ended and all was sent.
  void kick() {
    if (writing_ || finished_ || shut_down_) return;
    if (queue_.empty()) {
      if (hub_.source_ended_) shut_down();
      return;
    }
    writing_ = true;
    writer_ = write_next().eagerlyEvaluate([this](kj::Exception&&) { finish(); });
  }

 private:
  kj::Promise<void> write_next() {
    auto chunk = kj::heapString(queue_.data(), std::min(queue_.size(), kChunk * 4));
    queue_.erase(0, chunk.size());
    // evalNow: kj's write throws at once when the reader has gone (EPIPE);
    // that must end this channel, never the hub's pump that called deliver().
    auto written = kj::evalNow([&] { return socket_->write(chunk.begin(), chunk.size()); });
    return written.attach(kj::mv(chunk)).then([this]() -> kj::Promise<void> {
      if (!queue_.empty()) return write_next();
      writing_ = false;
      if (hub_.source_ended_) shut_down();
      return kj::READY_NOW;
    });
  }

  // Input to the guest (an input channel), or discarded; EOF ends the channel.
  kj::Promise<void> read_loop() {
    return socket_->tryRead(read_buffer_.begin(), 1, read_buffer_.size())
        .then([this](std::size_t got) -> kj::Promise<void> {
          if (got == 0) {
            finish();
            return kj::READY_NOW;
          }
          if (!input_ || hub_.guest_input_ == nullptr) return read_loop();
          return kj::evalNow([&] { return hub_.guest_input_->write(read_buffer_.begin(), got); })
              .then([this]() { return read_loop(); });
        });
  }

  void shut_down() {
    if (shut_down_) return;
    shut_down_ = true;
    try {
      socket_->shutdownWrite();
    } catch (const kj::Exception&) {
      finish();  // the reader is gone already
    }
  }

  // Done for good; the hub drops it at its next turn.
  void finish() {
    finished_ = true;
    if (input_) {
      hub_.input_taken_ = false;
      input_ = false;
    }
  }

  ConsoleHub& hub_;
  kj::Own<kj::AsyncIoStream> socket_;
  bool output_;
  bool input_;
  kj::Array<kj::byte> read_buffer_;
  std::string queue_;
  std::size_t dropped_ = 0;
  bool writing_ = false;
  bool shut_down_ = false;
  bool finished_ = false;
  kj::Promise<void> writer_ = kj::READY_NOW;
  kj::Promise<void> reader_ = kj::READY_NOW;
};

ConsoleHub::ConsoleHub(kj::LowLevelAsyncIoProvider& provider, kj::AsyncInputStream& source,
                       kj::AsyncOutputStream* guest_input)
    : provider_(provider), source_(source), guest_input_(guest_input) {}

ConsoleHub::~ConsoleHub() noexcept(false) = default;

kj::Promise<void> ConsoleHub::pump() {
  auto buffer = kj::heapArray<kj::byte>(kChunk);
  auto read = source_.tryRead(buffer.begin(), 1, buffer.size());
  return read.then(
      [this, buffer = kj::mv(buffer)](std::size_t got) mutable -> kj::Promise<void> {
        if (got == 0) {
          source_ended_ = true;
          for (auto& channel : channels_) channel->kick();
          return kj::READY_NOW;
        }
        deliver(std::string_view(reinterpret_cast<const char*>(buffer.begin()), got));
        return pump();
      },
      [this](kj::Exception&&) -> kj::Promise<void> {
        source_ended_ = true;
        for (auto& channel : channels_) channel->kick();
        return kj::READY_NOW;
      });
}

void ConsoleHub::deliver(std::string_view bytes) {
  log_.append(bytes);
  prune();
  for (auto& channel : channels_) channel->deliver(bytes);
}

void ConsoleHub::prune() {
  channels_.remove_if([](const kj::Own<Channel>& channel) { return channel->finished(); });
}

std::size_t ConsoleHub::open_channels() {
  prune();
  return channels_.size();
}

kj::AutoCloseFd ConsoleHub::open_channel(bool output, bool input) {
  if (!output && !input) throw std::runtime_error("a console channel needs output, input or both");
  if (input && guest_input_ == nullptr) throw std::runtime_error("this VM has no console input");
  if (input && input_taken_) throw std::runtime_error("the console input is already open (one at a time)");
  if (open_channels() >= kMaxChannels) {
    throw std::runtime_error(fmt::format("too many open console channels (at most {})", kMaxChannels));
  }
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
    throw std::runtime_error(fmt::format("socketpair for the console: {}", std::strerror(errno)));
  }
  kj::AutoCloseFd ours(ends[0]);
  kj::AutoCloseFd theirs(ends[1]);
  auto channel = kj::heap<Channel>(*this, provider_.wrapSocketFd(kj::mv(ours)), output, input);
  if (input) input_taken_ = true;
  if (output) {
    channel->deliver(log_.text());
    channel->kick();
  }
  channels_.push_back(kj::mv(channel));
  return theirs;
}

}  // namespace provium
