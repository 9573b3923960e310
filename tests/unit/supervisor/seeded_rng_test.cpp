#include "seeded_rng.h"

#include "rng_feeder.h"

#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace provium {
namespace {

std::string hex(std::span<const std::byte> bytes) {
  std::string out;
  char pair[3];
  for (const std::byte b : bytes) {
    std::snprintf(pair, sizeof pair, "%02x", static_cast<unsigned>(b));
    out += pair;
  }
  return out;
}

std::vector<std::byte> take(SeededRng& rng, std::size_t count) {
  std::vector<std::byte> out(count);
  rng.fill(out);
  return out;
}

// Seed 0 is the all-zero key: RFC 8439, appendix A.1, test vector #1 (block 0).
TEST(SeededRng, SeedZeroIsTheRfc8439ZeroKeyKeystream) {
  SeededRng rng(0);
  EXPECT_EQ(hex(take(rng, 32)), "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7");
  EXPECT_EQ(hex(take(rng, 32)), "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586");
}

// The seed is the key's first 8 bytes, little-endian (what `openssl enc
// -chacha20 -K 0700..00 -iv 00..00` prints for seed 7).
TEST(SeededRng, SeedIsTheLittleEndianKeyPrefix) {
  SeededRng rng(7);
  EXPECT_EQ(hex(take(rng, 16)), "f19ee3b965429844e496af300ed6cb0d");
}

TEST(SeededRng, ChunkingDoesNotChangeTheStream) {
  SeededRng whole(0xdeadbeef);
  SeededRng pieces(0xdeadbeef);
  const auto expected = take(whole, 4096 + 7);
  std::vector<std::byte> got;
  for (std::size_t size : {1u, 63u, 64u, 65u, 1000u, 2910u}) {
    const auto part = take(pieces, size);
    got.insert(got.end(), part.begin(), part.end());
  }
  EXPECT_EQ(got, expected);
  SeededRng other(0xdeadbef0);
  EXPECT_NE(take(other, 64), std::vector<std::byte>(expected.begin(), expected.begin() + 64));
}

// The agent finds its place by two consecutive words (agent/seeded_rng_sync.cpp).
TEST(RngPreamble, WordsCountUpLittleEndianFromTheMagic) {
  std::vector<std::byte> words(24);
  fill_rng_preamble(8, words);
  EXPECT_EQ(hex(std::span(words).first(8)), "016d7569766f7270");
  EXPECT_EQ(hex(std::span(words).subspan(8, 8)), "026d7569766f7270");
  std::vector<std::byte> unaligned(5);
  fill_rng_preamble(11, unaligned);
  EXPECT_EQ(hex(unaligned), "69766f7270");
}

}  // namespace
}  // namespace provium
