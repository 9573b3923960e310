// Change notification for followed files (tails): one inotify instance per
// host session, shared by every tail in it and made only when the first tail
// needs it (inotify instances are a scarce per-user resource, and agents for
// --vmm local all run as one user). Watching the same file twice shares one
// kernel watch.
// Bursts of writes are coalesced: a subscriber hears at most once per batch.
#pragma once

#include "event_loop.h"
#include "unique_fd.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

namespace provium::agent {

class InotifyHub {
 public:
  class Subscription;

  explicit InotifyHub(EventLoop& loop);
  InotifyHub(const InotifyHub&) = delete;
  InotifyHub& operator=(const InotifyHub&) = delete;

  // Calls `on_change` after the open file `fd` is written to, truncated or
  // has its attributes changed. Throws std::system_error.
  [[nodiscard]] Subscription subscribe(int fd, std::function<void()> on_change);

  // Ends the subscription when destroyed; must not outlive the hub.
  class Subscription {
   public:
    Subscription() = default;
    Subscription(Subscription&& other) noexcept;
    Subscription& operator=(Subscription&& other) noexcept;
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    ~Subscription();
    void reset();

   private:
    friend class InotifyHub;
    Subscription(InotifyHub* hub, int watch, std::uint64_t token) : hub_(hub), watch_(watch), token_(token) {}
    InotifyHub* hub_ = nullptr;
    int watch_ = -1;
    std::uint64_t token_ = 0;
  };

 private:
  void unsubscribe(int watch, std::uint64_t token);
  void on_readable();

  EventLoop& loop_;
  UniqueFd fd_;
  Watch loop_watch_;
  std::uint64_t next_token_ = 1;
  // inotify watch descriptor -> subscribers
  std::map<int, std::map<std::uint64_t, std::function<void()>>> subscribers_;
};

}  // namespace provium::agent
