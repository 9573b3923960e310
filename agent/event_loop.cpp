#include "event_loop.h"

#include "log.h"

#include <sys/epoll.h>

#include <cerrno>
#include <stdexcept>
#include <string>

namespace provium::agent {

Watch::Watch(Watch&& other) noexcept
    : loop_(std::exchange(other.loop_, nullptr)),
      token_(other.token_),
      fd_(other.fd_),
      events_(other.events_) {}

Watch& Watch::operator=(Watch&& other) noexcept {
  if (this != &other) {
    reset();
    loop_ = std::exchange(other.loop_, nullptr);
    token_ = other.token_;
    fd_ = other.fd_;
    events_ = other.events_;
  }
  return *this;
}

Watch::~Watch() { reset(); }

void Watch::set_events(std::uint32_t events) {
  if (loop_ == nullptr || events == events_) return;
  events_ = events;
  loop_->modify(token_, fd_, events);
}

void Watch::reset() {
  if (loop_ != nullptr) std::exchange(loop_, nullptr)->remove(token_, fd_);
}

EventLoop::EventLoop() : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (!epoll_fd_.valid()) throw std::runtime_error("epoll_create1 failed: " + std::to_string(errno));
}

Watch EventLoop::watch(int fd, std::uint32_t events, Callback callback) {
  const std::uint64_t token = next_token_++;
  epoll_event event{};
  event.events = events;
  event.data.u64 = token;
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
    throw std::runtime_error("epoll_ctl(ADD, fd " + std::to_string(fd) + ") failed: errno " +
                             std::to_string(errno));
  }
  callbacks_.emplace(token, std::move(callback));
  return Watch(this, token, fd, events);
}

void EventLoop::modify(std::uint64_t token, int fd, std::uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = token;
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, fd, &event) != 0) log_errno("epoll_ctl(MOD)", errno);
}

void EventLoop::remove(std::uint64_t token, int fd) {
  // The fd may already be closed (then the kernel dropped it from the set); only
  // the callback lookup matters for correctness.
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
  callbacks_.erase(token);
}

void EventLoop::defer(std::function<void()> task) { deferred_.push_back(std::move(task)); }

void EventLoop::run_deferred() {
  while (!deferred_.empty()) {
    auto tasks = std::move(deferred_);
    deferred_.clear();
    for (auto& task : tasks) task();
  }
}

void EventLoop::run() {
  running_ = true;
  constexpr int kBatch = 32;
  epoll_event events[kBatch];
  while (running_) {
    run_deferred();
    if (!running_) break;
    const int count = ::epoll_wait(epoll_fd_.get(), events, kBatch, -1);
    if (count < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("epoll_wait failed: errno " + std::to_string(errno));
    }
    for (int i = 0; i < count; ++i) {
      auto found = callbacks_.find(events[i].data.u64);
      if (found == callbacks_.end()) continue;  // unwatched earlier in this batch
      // Copy: the callback may unwatch itself, destroying the stored function.
      Callback callback = found->second;
      callback(events[i].events);
    }
  }
  run_deferred();
}

}  // namespace provium::agent
