// A capture for the user switch: frames as a standard pcap stream (global
// header, then one record per frame) written to a pipe whose read end goes to
// the test. Writes never block the switch: each record is one write of less
// than PIPE_BUF bytes, so it lands whole or not at all; a reader that falls
// behind loses records, and one that closed its end stops the capture.
#pragma once

#include "frame_tap.h"

#include "owned_fd.h"

#include <atomic>

namespace provium::net {

class PcapPipeTap final : public FrameTap {
 public:
  // Makes the pipe and writes the global header; `read_end` receives the reader's end.
  explicit PcapPipeTap(OwnedFd& read_end);

  void on_frame(std::chrono::system_clock::time_point when, std::span<const std::uint8_t> frame) override;

  std::uint64_t dropped() const { return dropped_.load(); }

 private:
  OwnedFd write_end_;
  bool reader_gone_ = false;
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace provium::net
