// The agent's end of the host channel: a non-blocking byte stream carrying
// length-prefixed frames both ways. Incoming bytes are cut into frames; outgoing
// frames are queued and written as the fd accepts them (partial writes and
// EAGAIN are normal: the host may read slowly).
//
// Two kinds of stream behave differently when the host goes away:
//  - a socket (--connect-fd): end of stream is final;
//  - a virtio-serial port: reads return 0 / poll reports POLLHUP while no host
//    is attached to the chardev, and the same port works again once one is.
//    The channel then drops its buffers and polls the port until it is back.
//
// Output that can be produced at will (stream data) asks has_room() first: the
// channel is "congested" once kCongestedBytes are queued and has room again,
// announced through on_room, when the queue has drained to kRoomBytes. That
// keeps what the agent buffers for a slow host bounded.
#pragma once

#include "event_loop.h"
#include "frame.h"
#include "outbound_frame.h"
#include "timers.h"
#include "unique_fd.h"

#include <capnp/common.h>
#include <kj/array.h>

#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace provium::agent {

class FrameChannel {
 public:
  enum class Kind { kSocket, kVirtioPort };

  struct Handlers {
    std::function<void(kj::Array<capnp::word> body)> on_frame;
    // The stream could not be parsed; buffered input has been dropped.
    std::function<void(const std::string& reason)> on_garbage;
    // The host went away. For a socket this is final.
    std::function<void()> on_disconnected;
    // A virtio host attached (again).
    std::function<void()> on_connected;
    // Every queued byte has been written.
    std::function<void()> on_drained;
    // has_room() turned true again.
    std::function<void()> on_room;
  };

  static constexpr std::size_t kCongestedBytes = 2u << 20;
  static constexpr std::size_t kRoomBytes = 512u << 10;

  FrameChannel(EventLoop& loop, UniqueFd fd, Kind kind, Handlers handlers);

  // Queues a frame; it is dropped if no host is connected.
  void send(OutboundFrame frame);
  bool output_idle() const { return outbound_.empty(); }
  // Forgets queued frames not yet begun (a partly written one must finish, or
  // the stream would lose its framing).
  void drop_unstarted_frames();
  bool connected() const { return connected_; }
  bool has_room() const { return !congested_; }
  std::size_t queued_bytes() const { return queued_bytes_; }
  // Stops (or resumes) taking frames in, so the peer's writes back up.
  void set_reading(bool reading);

 private:
  void on_events(std::uint32_t events);
  void read_available();
  void write_pending();
  void update_interest();
  void note_written(std::size_t bytes);
  void lose_connection();
  void poll_for_host();

  EventLoop& loop_;
  UniqueFd fd_;
  Kind kind_;
  Handlers handlers_;
  Watch watch_;
  PeriodicTimer reconnect_poll_;
  frame::Decoder decoder_;
  std::deque<OutboundFrame> outbound_;
  std::vector<std::byte> read_buffer_;
  std::size_t queued_bytes_ = 0;
  bool congested_ = false;
  bool reading_ = true;
  bool connected_ = true;
};

}  // namespace provium::agent
