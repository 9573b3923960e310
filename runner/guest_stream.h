// A Stream (1000-streams.md) as test code reads it, with the bytes left over
// past a read_until/expect match kept as `pending`. The bytes come from a
// StreamSource: an agent stream (a Tail) or the guest console.
#pragma once

#include "lua_call_site.h"

#include "stream_source.h"
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
  // An agent stream of `vm`.
  GuestStream(std::shared_ptr<Vm> vm, StreamKey key, std::string kind, std::string detail);
  // Any other source; `owner` (the VM's name) prefixes errors.
  GuestStream(std::string owner, std::unique_ptr<StreamSource> source, std::string kind, std::string detail)
      : owner_(std::move(owner)), source_(std::move(source)), kind_(std::move(kind)), detail_(std::move(detail)) {}
  ~GuestStream();
  GuestStream(const GuestStream&) = delete;
  GuestStream& operator=(const GuestStream&) = delete;

  // The next chunk; nothing at end of stream, after close, or when `wait` passes.
  std::optional<std::string> next(std::chrono::milliseconds wait);
  // Through the end of the first `pattern`; throws on timeout, end or close.
  std::string read_until(const std::string& pattern, std::chrono::milliseconds wait);
  std::vector<std::string> drain(std::chrono::milliseconds wait);
  void close();
  bool is_closed() const { return closed_; }
  bool eof();
  // The VM of an agent stream (null for other sources, or once it is gone).
  std::shared_ptr<Vm> vm() const { return vm_.lock(); }
  std::string what() const { return detail_.empty() ? kind_ : kind_ + " " + detail_; }
  // Where the test code opened it (set when it is handed to Lua).
  const std::optional<CallSite>& creation_site() const { return creation_site_; }
  void set_creation_site(std::optional<CallSite> site) { creation_site_ = std::move(site); }

 private:
  [[noreturn]] void fail(const std::string& message) const;

  std::string owner_;
  std::unique_ptr<StreamSource> source_;
  std::string kind_;
  std::string detail_;
  std::string pending_;
  bool closed_ = false;
  std::optional<CallSite> creation_site_;
  std::weak_ptr<Vm> vm_;
};

// "<what> (opened at file:line)", for errors naming an open resource.
std::string describe_opened(const std::string& what, const std::optional<CallSite>& site);

}  // namespace provium::runner
