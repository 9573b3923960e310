// Copies one PacketCapture into a pipe as a pcap stream, on a thread of its
// own. The reader gets the pipe's read end; the pump stops when the reader
// closes it (EPIPE, or POLLERR while idle), when the captured link goes
// away, or when the pump is destroyed (then the thread is woken through an
// eventfd and joined, even if it was waiting for a full pipe to drain).
#pragma once

#include <atomic>
#include <memory>
#include <thread>

#include "owned_fd.h"
#include "packet_capture.h"

namespace provium::netsetup {

class CapturePump {
 public:
  // Starts the thread; `reader` receives the pipe's read end (close-on-exec).
  static std::unique_ptr<CapturePump> start(PacketCapture capture, OwnedFd& reader);

  CapturePump(const CapturePump&) = delete;
  CapturePump& operator=(const CapturePump&) = delete;
  ~CapturePump();

  // The thread has ended (the reader left, or the link went away).
  bool finished() const { return finished_.load(); }

 private:
  CapturePump(PacketCapture capture, OwnedFd writer, OwnedFd stop);
  void run();

  PacketCapture capture_;
  OwnedFd writer_;
  OwnedFd stop_;  // eventfd: readable once the pump is being destroyed
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace provium::netsetup
