// The floor the benchmarks compare against: the bundled guest started by the
// supervisor's own QEMU launcher (same flags as provium), driven by speaking
// the agent protocol directly, with no supervisor, runner or RPC in between.
#pragma once

#include <cstdint>
#include <string>
#include <thread>

#include <capnp/message.h>
#include <kj/array.h>

#include "boot_plan.h"
#include "frame.h"
#include "guest_ram.h"
#include "qemu_spawn.h"

namespace provium::bench {

struct BareGuestSpec {
  BootPlan plan;
  std::string qemu;
  Accel accel = Accel::tcg;
  PrivilegeDrop privileges;
};

// Reads the bundled guest and decides the accelerator as provium would.
BareGuestSpec bare_guest_spec();

class BareGuest {
 public:
  // Starts QEMU and returns once the agent has answered `hello`.
  explicit BareGuest(const BareGuestSpec& spec);
  ~BareGuest();
  BareGuest(const BareGuest&) = delete;
  BareGuest& operator=(const BareGuest&) = delete;

  // Sends one request (its id is set here) and returns the response's frame.
  kj::Array<capnp::word> round_trip(capnp::MallocMessageBuilder& message);
  // `argv` through the agent's run op; returns stdout.
  std::string run(std::initializer_list<const char*> argv);
  void ping();

 private:
  GuestRam ram_;  // the guest's memory, as provium gives it (a memfd QEMU maps shared)
  SpawnedQemu qemu_;
  std::thread console_drain_;
  frame::Decoder decoder_;
  std::uint64_t next_id_ = 1;
};

}  // namespace provium::bench
