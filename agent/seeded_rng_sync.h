// Makes a seeded virtio-rng deterministic for userspace. The kernel reads the
// device on its own when it registers (a first sample, then its hwrng thread,
// since virtio-rng rates itself at quality 1000), so how many bytes it takes
// before userspace runs depends on timing. The supervisor therefore starts the
// stream with a preamble of N bytes (provium.rng_preamble=N on the cmdline)
// whose 8-byte little-endian words count up from kRngPreambleMagic. The agent,
// once the module is loaded, stops the kernel's reader (rng_quality = 0), reads
// a few words to learn where in the preamble the device is, and reads on to its
// end: the first byte any process reads from /dev/hwrng is then the first byte
// of the seeded sequence, in every boot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace provium::agent {

inline constexpr std::uint64_t kRngPreambleMagic = 0x70726f7669756d00;  // "provium\0", big-endian
inline constexpr const char* kRngPreambleParameter = "provium.rng_preamble";

// Where `bytes` (read from the device) start within the preamble: the offset
// of their first byte; nullopt if they hold no two consecutive preamble words.
std::optional<std::size_t> preamble_position(std::span<const std::byte> bytes, std::size_t preamble_length);

// If the cmdline asks for it, synchronises as described above. Failures are
// logged (the guest still boots; /dev/hwrng is then not reproducible).
void synchronise_seeded_rng();

}  // namespace provium::agent
