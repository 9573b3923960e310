// The byte stream behind a seeded virtio-rng: the ChaCha20 keystream (RFC 8439)
// with the 256-bit key = the seed as 8 little-endian bytes followed by 24 zero
// bytes, a zero 96-bit nonce and the block counter starting at 0. Anyone can
// reproduce it from the seed alone, and every boot with one seed gets the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace provium {

class SeededRng {
 public:
  explicit SeededRng(std::uint64_t seed);  // throws std::runtime_error if OpenSSL cannot set up ChaCha20
  ~SeededRng();
  SeededRng(const SeededRng&) = delete;
  SeededRng& operator=(const SeededRng&) = delete;

  // The next out.size() bytes of the stream.
  void fill(std::span<std::byte> out);

 private:
  struct Cipher;
  std::unique_ptr<Cipher> cipher_;
};

}  // namespace provium
