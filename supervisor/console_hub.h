// A guest console shared between the supervisor and the runner. The hub
// drains the console continuously (the guest never blocks on us) into a
// ConsoleLog, and fans the bytes out to channels: socketpairs whose other end
// goes to the runner (Vm.openConsole). Every buffer is bounded: a channel
// whose reader falls behind loses bytes (a marker says how many) instead of
// growing or stalling the event loop. Input from the one input channel goes
// to the guest's console, one chunk at a time, so a guest that does not read
// pushes back on the runner rather than on our memory.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <string_view>

#include <kj/async-io.h>
#include <kj/io.h>

#include "console_log.h"

namespace provium {

class ConsoleHub {
 public:
  static constexpr std::size_t kHeadBytes = 256 * 1024;
  static constexpr std::size_t kTailBytes = 256 * 1024;
  // What one channel may have queued for its reader (the replayed log fits).
  static constexpr std::size_t kChannelQueueBytes = 1024 * 1024;
  static constexpr std::size_t kMaxChannels = 8;

  // `guest_input` is where console input goes; null when the VM has none.
  // Both streams must outlive the hub.
  ConsoleHub(kj::LowLevelAsyncIoProvider& provider, kj::AsyncInputStream& source,
             kj::AsyncOutputStream* guest_input);
  ConsoleHub(const ConsoleHub&) = delete;
  ConsoleHub& operator=(const ConsoleHub&) = delete;
  ~ConsoleHub() noexcept(false);

  // Reads the console until EOF (or a read error, taken as EOF). Call once.
  kj::Promise<void> pump();
  const ConsoleLog& log() const { return log_; }

  // A new channel; returns the runner's end. With `output` the channel gets
  // the kept log, then live output, then EOF once the console ends. With
  // `input` its bytes go to the guest. Throws std::runtime_error when the
  // request cannot be served (too many channels, input busy or absent).
  kj::AutoCloseFd open_channel(bool output, bool input);
  std::size_t open_channels();

 private:
  class Channel;
  void deliver(std::string_view bytes);
  void prune();

  kj::LowLevelAsyncIoProvider& provider_;
  kj::AsyncInputStream& source_;
  kj::AsyncOutputStream* guest_input_;
  ConsoleLog log_{kHeadBytes, kTailBytes};
  bool source_ended_ = false;
  bool input_taken_ = false;
  std::list<kj::Own<Channel>> channels_;
};

}  // namespace provium
