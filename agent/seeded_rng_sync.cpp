#include "seeded_rng_sync.h"

#include "kernel_cmdline.h"
#include "log.h"
#include "unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>

namespace provium::agent {
namespace {

constexpr std::size_t kWord = 8;
constexpr std::size_t kFill = 64;  // the hwrng core's buffer (SMP_CACHE_BYTES) and virtio-rng's request
constexpr std::int64_t kMaxPreamble = 1 << 20;

std::uint64_t load_le(const std::byte* p) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < kWord; ++i) value |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return value;
}

// Reads exactly out.size() bytes (the device may return fewer per read).
bool read_exactly(int fd, std::span<std::byte> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t got = ::read(fd, out.data() + done, out.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    done += static_cast<std::size_t>(got);
  }
  return true;
}

void stop_kernel_reader() {
  UniqueFd quality(::open("/sys/class/misc/hw_random/rng_quality", O_WRONLY | O_CLOEXEC));
  if (!quality.valid() || ::write(quality.get(), "0", 1) != 1) log_errno("seeded rng: set rng_quality to 0", errno);
}

}  // namespace

std::optional<std::size_t> preamble_position(std::span<const std::byte> bytes, std::size_t preamble_length) {
  for (std::size_t shift = 0; shift < kWord && shift + 2 * kWord <= bytes.size(); ++shift) {
    const std::uint64_t first = load_le(bytes.data() + shift) - kRngPreambleMagic;
    const std::uint64_t second = load_le(bytes.data() + shift + kWord) - kRngPreambleMagic;
    if (second != first + 1 || second >= preamble_length / kWord) continue;
    const std::uint64_t word_start = first * kWord;
    if (word_start < shift) continue;
    return static_cast<std::size_t>(word_start - shift);
  }
  return std::nullopt;
}

void synchronise_seeded_rng() {
  const std::optional<std::int64_t> length = cmdline_integer(read_kernel_cmdline(), kRngPreambleParameter);
  if (!length) return;
  if (*length <= 0 || *length > kMaxPreamble || *length % kWord != 0) {
    log_error("seeded rng: " + std::string(kRngPreambleParameter) + "=" + std::to_string(*length) + " is not usable");
    return;
  }
  stop_kernel_reader();
  // The kernel's hwrng core hands a reader its 64-byte fills, and serves a
  // read shorter than a fill from the fill's end, keeping the rest for the
  // next reader. So: take whatever the driver still buffers from the kernel's
  // own reads (non-blocking), then read whole fills only; those are whole
  // device requests, which start at multiples of 64 in the supervisor's
  // stream, and the preamble's length is one too.
  UniqueFd leftover(::open("/dev/hwrng", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  std::array<std::byte, kFill> fill{};
  if (leftover.valid()) [[maybe_unused]] ssize_t ignored = ::read(leftover.get(), fill.data(), fill.size());
  leftover.reset();
  UniqueFd device(::open("/dev/hwrng", O_RDONLY | O_CLOEXEC));
  if (!device.valid() || !read_exactly(device.get(), fill)) {
    log_errno("seeded rng: read /dev/hwrng", errno);
    return;
  }
  const auto position = preamble_position(fill, static_cast<std::size_t>(*length));
  const std::size_t end = position ? *position + fill.size() : 0;
  if (!position || end > static_cast<std::size_t>(*length) || (*length - end) % kFill != 0) {
    log_error("seeded rng: lost the preamble (the kernel read past it, or out of step); /dev/hwrng will not repeat");
    return;
  }
  for (std::size_t left = static_cast<std::size_t>(*length) - end; left > 0; left -= kFill) {
    if (!read_exactly(device.get(), fill)) {
      log_errno("seeded rng: read /dev/hwrng", errno);
      return;
    }
  }
}

}  // namespace provium::agent
