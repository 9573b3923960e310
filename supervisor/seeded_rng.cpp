#include "seeded_rng.h"

#include <array>
#include <stdexcept>
#include <vector>

#include <openssl/evp.h>

namespace provium {

struct SeededRng::Cipher {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> context{EVP_CIPHER_CTX_new(),
                                                                          &EVP_CIPHER_CTX_free};
  std::vector<unsigned char> zeros;
};

SeededRng::SeededRng(std::uint64_t seed) : cipher_(std::make_unique<Cipher>()) {
  std::array<unsigned char, 32> key{};
  for (int i = 0; i < 8; ++i) key[i] = static_cast<unsigned char>(seed >> (8 * i));
  // OpenSSL's ChaCha20 IV: the 32-bit block counter (little-endian), then the 96-bit nonce.
  const std::array<unsigned char, 16> counter_and_nonce{};
  if (!cipher_->context ||
      EVP_EncryptInit_ex(cipher_->context.get(), EVP_chacha20(), nullptr, key.data(), counter_and_nonce.data()) != 1) {
    throw std::runtime_error("rng_seed: cannot initialise OpenSSL's ChaCha20");
  }
}

SeededRng::~SeededRng() = default;

// The keystream is what encrypting zeros yields.
void SeededRng::fill(std::span<std::byte> out) {
  if (cipher_->zeros.size() < out.size()) cipher_->zeros.resize(out.size());
  int written = 0;
  if (EVP_EncryptUpdate(cipher_->context.get(), reinterpret_cast<unsigned char*>(out.data()), &written,
                        cipher_->zeros.data(), static_cast<int>(out.size())) != 1 ||
      static_cast<std::size_t>(written) != out.size()) {
    throw std::runtime_error("rng_seed: OpenSSL's ChaCha20 failed");
  }
}

}  // namespace provium
