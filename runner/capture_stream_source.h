// A packet capture as a Stream's source (a Capture in 1000-streams.md): the
// read end of a pipe from the supervisor carrying a pcap file, global header
// first, one record per frame. It ends when the bridge goes or the stream is closed.
#pragma once

#include "console_connection.h"
#include "stream_source.h"
#include "test_clock.h"

#include <memory>

namespace provium::runner {

class CaptureStreamSource final : public StreamSource {
 public:
  CaptureStreamSource(kj::AutoCloseFd fd, TestClock& clock)
      : connection_(std::make_unique<ConsoleConnection>(kj::mv(fd))), clock_(clock) {}

  std::optional<std::string> read(std::size_t max, Deadline wait) override;
  bool ended() override { return ended_ || (connection_ && connection_->at_eof()); }
  std::string failure() override { return {}; }
  void close() override { connection_.reset(); }

 private:
  std::unique_ptr<ConsoleConnection> connection_;  // any fd: poll(2)-bounded reads
  TestClock& clock_;
  bool ended_ = false;
};

}  // namespace provium::runner
