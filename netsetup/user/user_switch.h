// The user datapath: an Ethernet learning switch in the supervisor, one
// port per guest NIC. Each port is a SOCK_DGRAM socketpair; QEMU gets one end
// (-netdev dgram,local.type=fd) and sends and receives one frame per
// datagram. Needs no privileges and no kernel qdiscs, so it implements every
// impairment itself: partitions, isolation, loss (seeded), latency and jitter
// (a timer queue), bandwidth (a per-link serializer with a bounded backlog),
// link down, captures.
//
// It runs on its own thread (epoll + timerfd) so delays are kept to the
// timer's precision whatever the supervisor's loop is doing; every public
// method is safe to call from any thread.
#pragma once

#include "ethernet_frame.h"
#include "frame_tap.h"
#include "link_policy.h"
#include "seeded_random.h"

#include "owned_fd.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <vector>

namespace provium::net {

using provium::OwnedFd;

struct PortCounters {
  std::uint64_t rx_frames = 0;  // from the guest into the switch
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_frames = 0;  // from the switch to the guest
  std::uint64_t tx_bytes = 0;
  std::uint64_t dropped = 0;    // frames meant for this port that the policy or a full socket dropped
};

struct NewPort {
  PortId id = 0;
  OwnedFd guest_end;  // for QEMU: -netdev dgram,id=...,local.type=fd,local.str=<fd>
};

class UserSwitch {
 public:
  // `seed` drives loss and jitter.
  UserSwitch(std::string name, std::uint64_t seed);
  ~UserSwitch();  // stops the thread, closes every port
  UserSwitch(const UserSwitch&) = delete;
  UserSwitch& operator=(const UserSwitch&) = delete;

  const std::string& name() const { return name_; }

  NewPort add_port();
  void remove_port(PortId port);
  // Takes over the switch end of a socketpair made elsewhere (a guest NIC
  // slot whose other end QEMU already holds); frames queued on it before
  // are discarded. release_port() hands it back, so a slot can move between
  // switches while QEMU keeps its fd.
  PortId adopt_port(OwnedFd switch_end);
  OwnedFd release_port(PortId port);
  // A port whose link is down neither sends nor receives (the cable is out).
  void set_link(PortId port, bool up);
  PortCounters counters(PortId port) const;

  // Edits the policy under the switch's lock; applies to frames switched from then on.
  template <typename Edit>
  void edit_policy(Edit&& edit) {
    std::lock_guard lock(mutex_);
    edit(policy_);
  }
  PairVerdict verdict(PortId from, PortId to) const;

  // Captures: every frame the switch delivers (after the policy), or only
  // those to or from `port`. Returns an id for remove_tap.
  std::uint64_t add_tap(std::shared_ptr<FrameTap> tap, std::optional<PortId> port = std::nullopt);
  void remove_tap(std::uint64_t tap_id);

  // Frames queued in delay or bandwidth queues right now.
  std::size_t frames_in_flight() const;

 private:
  using Clock = std::chrono::steady_clock;

  struct Port {
    OwnedFd switch_end;
    bool link_up = true;
    PortCounters counters;
  };
  struct Delivery {
    Clock::time_point due;
    std::uint64_t sequence;  // keeps equal due times in arrival order
    PortId from;
    PortId to;
    std::vector<std::uint8_t> frame;
    bool operator>(const Delivery& other) const {
      return due != other.due ? due > other.due : sequence > other.sequence;
    }
  };
  struct Tap {
    std::shared_ptr<FrameTap> tap;
    std::optional<PortId> port;
  };

  void run();
  void receive_from(PortId from);
  void switch_frame(PortId from, std::vector<std::uint8_t> frame);
  void schedule(PortId from, PortId to, const std::vector<std::uint8_t>& frame, Clock::time_point now);
  void deliver(const Delivery& delivery);
  void deliver_due();
  void arm_timer();
  void wake();

  const std::string name_;
  mutable std::mutex mutex_;
  OwnedFd epoll_;
  OwnedFd timer_;
  OwnedFd wakeup_;
  bool stopping_ = false;
  PortId next_port_ = 1;
  std::map<PortId, Port> ports_;
  std::map<MacAddress, PortId> learned_;
  LinkPolicy policy_;
  SeededRandom random_;
  std::priority_queue<Delivery, std::vector<Delivery>, std::greater<>> pending_;
  std::uint64_t next_sequence_ = 0;
  // Bandwidth: when each serializer (a (from, to) link, or the whole switch)
  // is next free to send.
  std::map<std::pair<PortId, PortId>, Clock::time_point> link_free_at_;
  std::map<std::uint64_t, Tap> taps_;
  std::uint64_t next_tap_ = 1;
  std::thread thread_;
};

}  // namespace provium::net
