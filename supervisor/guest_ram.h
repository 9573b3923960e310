// A guest's RAM as a memory object the supervisor can read back. QEMU maps it
// through memory-backend-file on /dev/fd/N (share=on), so the guest's pages
// live in a memfd we also hold; a snapshot copies them while the guest is
// stopped. A memfd has no name in any file system: nothing is left behind.
#pragma once

#include <cstdint>
#include <string>

#include <owned_fd.h>

namespace provium {

class GuestRam {
 public:
  // A zeroed memfd of `bytes`. Throws std::runtime_error naming `vm`.
  static GuestRam create(std::uint64_t bytes, const std::string& vm);

  int fd() const { return fd_.get(); }
  std::uint64_t bytes() const { return bytes_; }

 private:
  GuestRam(OwnedFd fd, std::uint64_t bytes) : fd_(std::move(fd)), bytes_(bytes) {}
  OwnedFd fd_;
  std::uint64_t bytes_ = 0;
};

// Copies [0, bytes) of `from` into `to` at the same offsets, skipping holes
// (a guest touches a fraction of its RAM; the copy stays sparse). Throws
// std::runtime_error with the failing call.
void copy_sparse(int from, int to, std::uint64_t bytes);

}  // namespace provium
