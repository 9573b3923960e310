// SHA-256 over a sequence of byte chunks (OpenSSL EVP), as lowercase hex.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace provium {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes);
  std::string hex_digest();  // finishes the hash

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

}  // namespace provium
