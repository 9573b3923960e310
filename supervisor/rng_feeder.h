// Feeds a seeded virtio-rng: QEMU reads the guest's entropy from the read end
// of a pipe (an inherited fd, see qemu_spawn.cpp) and we keep the write end full
// on the event loop: first the preamble the agent reads past (kRngPreambleBytes,
// see kernel_cmdline.h), then the SeededRng stream. Buffering is bounded: one
// chunk in hand plus the pipe's capacity; we generate more only as the guest
// consumes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include <kj/async-io.h>
#include <kj/io.h>

#include "seeded_rng.h"

namespace provium {

// The preamble's 8-byte little-endian words count up from this (the agent's
// kRngPreambleMagic, agent/seeded_rng_sync.h).
inline constexpr std::uint64_t kRngPreambleMagic = 0x70726f7669756d00;

// Bytes [offset, offset + out.size()) of a preamble.
void fill_rng_preamble(std::size_t offset, std::span<std::byte> out);

class RngFeeder {
 public:
  // Takes the pipe's write end. Stops quietly when QEMU (the only reader) is
  // gone; destroying the feeder stops it and closes the pipe.
  RngFeeder(kj::AsyncIoContext& io, kj::AutoCloseFd pipe_write_end, std::uint64_t seed);
  RngFeeder(const RngFeeder&) = delete;
  RngFeeder& operator=(const RngFeeder&) = delete;

 private:
  kj::Promise<void> feed();

  SeededRng rng_;
  kj::Own<kj::AsyncOutputStream> pipe_;
  kj::Array<kj::byte> chunk_;
  std::size_t preamble_written_ = 0;
  kj::Promise<void> feeding_;
};

}  // namespace provium
