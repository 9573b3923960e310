#include "rng_feeder.h"

#include <algorithm>
#include <span>

#include "kernel_cmdline.h"

namespace provium {
namespace {

constexpr std::size_t kChunkBytes = 4096;

}  // namespace

RngFeeder::RngFeeder(kj::AsyncIoContext& io, kj::AutoCloseFd pipe_write_end, std::uint64_t seed)
    : rng_(seed),
      pipe_(io.lowLevelProvider->wrapOutputFd(pipe_write_end.release(),
                                              kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP |
                                                  kj::LowLevelAsyncIoProvider::ALREADY_CLOEXEC)),
      chunk_(kj::heapArray<kj::byte>(kChunkBytes)),
      feeding_(feed().eagerlyEvaluate([](kj::Exception&&) {
        // EPIPE: QEMU exited. Nothing else reads this pipe, so nothing is lost.
      })) {}

void fill_rng_preamble(std::size_t offset, std::span<std::byte> out) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::size_t at = offset + i;
    out[i] = static_cast<std::byte>((kRngPreambleMagic + at / 8) >> (8 * (at % 8)));
  }
}

kj::Promise<void> RngFeeder::feed() {
  std::span<std::byte> chunk = std::as_writable_bytes(std::span(chunk_.begin(), chunk_.size()));
  const std::size_t preamble = std::min(chunk.size(), kRngPreambleBytes - preamble_written_);
  fill_rng_preamble(preamble_written_, chunk.first(preamble));
  preamble_written_ += preamble;
  rng_.fill(chunk.subspan(preamble));
  return kj::evalNow([&] { return pipe_->write(chunk_.begin(), chunk_.size()); }).then([this] { return feed(); });
}

}  // namespace provium
