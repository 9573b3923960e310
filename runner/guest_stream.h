// A Tail (1000-streams.md): one agent stream as test code reads it, with
// the bytes left over past a read_until/expect match kept as `pending`.
#pragma once

#include "vm.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace provium::runner {

inline constexpr std::chrono::milliseconds kStreamWaitDefault{10'000};
inline constexpr std::chrono::milliseconds kStreamDrainDefault{500};
// read_until gives up on a pattern after this much unmatched data.
inline constexpr std::size_t kReadUntilLimit = 16 * 1024 * 1024;
// The most one next() returns.
inline constexpr std::size_t kStreamChunkMax = 64 * 1024;

class GuestStream {
 public:
  // `kind` ("tail_file", "fd_stream", ...) and `detail` (path or fd) name it in errors.
  GuestStream(std::shared_ptr<Vm> vm, StreamKey key, std::string kind, std::string detail)
      : vm_(std::move(vm)), key_(key), kind_(std::move(kind)), detail_(std::move(detail)) {}
  ~GuestStream();
  GuestStream(const GuestStream&) = delete;
  GuestStream& operator=(const GuestStream&) = delete;

  // The next chunk; nothing at end of stream, after close, or when `wait` passes.
  std::optional<std::string> next(std::chrono::milliseconds wait);
  // Through the end of the first `pattern`; throws on timeout, end or close.
  std::string read_until(const std::string& pattern, std::chrono::milliseconds wait);
  std::vector<std::string> drain(std::chrono::milliseconds wait);
  void close();
  bool eof();
  std::string what() const { return kind_ + " " + detail_; }

 private:
  [[noreturn]] void fail(const std::string& message) const;

  std::shared_ptr<Vm> vm_;
  StreamKey key_;
  std::string kind_;
  std::string detail_;
  std::string pending_;
  bool closed_ = false;
};

}  // namespace provium::runner
