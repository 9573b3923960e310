// Captured stdout or stderr of one run, bounded so a chatty command cannot
// exhaust guest memory: bytes past the limit are read (so the writer is not
// blocked forever) and counted, but not kept.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace provium::agent {

class OutputCapture {
 public:
  explicit OutputCapture(std::size_t limit) : limit_(limit) {}

  // One read() from `fd`: >0 bytes consumed, 0 at end of stream, -1 with errno set.
  ssize_t read_from(int fd);

  const std::vector<std::byte>& bytes() const { return kept_; }
  std::vector<std::byte> take() { return std::move(kept_); }
  std::uint64_t discarded_bytes() const { return discarded_; }
  std::size_t limit() const { return limit_; }

 private:
  std::size_t limit_;
  std::vector<std::byte> kept_;
  std::uint64_t discarded_ = 0;
};

}  // namespace provium::agent
