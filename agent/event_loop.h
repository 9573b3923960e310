// The agent's single thread of control: one epoll set, callbacks per fd, and a
// queue of work deferred until the current batch of events is handled.
//
// Callbacks are found through a token, not the fd number or a raw pointer, so a
// callback that destroys another watched object (or reuses its fd number) in
// the same batch cannot cause a stale event to be delivered to it.
#pragma once

#include "unique_fd.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

namespace provium::agent {

class EventLoop;

// Registration of one fd in the loop; unregisters itself when destroyed.
// Declare it after the UniqueFd it watches so it is destroyed first.
class Watch {
 public:
  Watch() = default;
  Watch(Watch&& other) noexcept;
  Watch& operator=(Watch&& other) noexcept;
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;
  ~Watch();

  // Changes the epoll event mask (EPOLLIN, EPOLLOUT, ...).
  void set_events(std::uint32_t events);
  std::uint32_t events() const { return events_; }
  bool active() const { return loop_ != nullptr; }
  void reset();

 private:
  friend class EventLoop;
  Watch(EventLoop* loop, std::uint64_t token, int fd, std::uint32_t events)
      : loop_(loop), token_(token), fd_(fd), events_(events) {}

  EventLoop* loop_ = nullptr;
  std::uint64_t token_ = 0;
  int fd_ = -1;
  std::uint32_t events_ = 0;
};

class EventLoop {
 public:
  using Callback = std::function<void(std::uint32_t events)>;

  EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Level-triggered: `callback` runs on every turn while the fd is ready.
  [[nodiscard]] Watch watch(int fd, std::uint32_t events, Callback callback);

  // Runs `task` after the current batch of events; safe place to destroy
  // objects whose own callback is on the stack.
  void defer(std::function<void()> task);

  // Dispatches events until stop() is called.
  void run();
  void stop() { running_ = false; }

 private:
  friend class Watch;
  void modify(std::uint64_t token, int fd, std::uint32_t events);
  void remove(std::uint64_t token, int fd);
  void run_deferred();

  UniqueFd epoll_fd_;
  std::uint64_t next_token_ = 1;
  std::unordered_map<std::uint64_t, Callback> callbacks_;
  std::vector<std::function<void()>> deferred_;
  bool running_ = false;
};

// Lets work an object deferred notice that the object is gone by then (a
// host session that was reset in the same batch of events, say).
class Liveness {
 public:
  std::function<void()> guard(std::function<void()> task) const {
    return [alive = std::weak_ptr<const bool>(alive_), task = std::move(task)] {
      if (!alive.expired()) task();
    };
  }

 private:
  std::shared_ptr<const bool> alive_ = std::make_shared<const bool>(true);
};

}  // namespace provium::agent
