#include "timers.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace provium::agent {
namespace {

UniqueFd make_timerfd() {
  UniqueFd fd(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!fd.valid()) throw std::runtime_error("timerfd_create failed: errno " + std::to_string(errno));
  return fd;
}

timespec to_timespec(std::chrono::milliseconds value) {
  timespec out{};
  out.tv_sec = static_cast<time_t>(value.count() / 1000);
  out.tv_nsec = static_cast<long>((value.count() % 1000) * 1000000);
  // An all-zero it_value disarms a timerfd; "now" must still fire.
  if (out.tv_sec == 0 && out.tv_nsec == 0) out.tv_nsec = 1;
  return out;
}

void set_timer(int fd, std::chrono::milliseconds first, std::chrono::milliseconds period) {
  itimerspec spec{};
  spec.it_value = to_timespec(first);
  if (period.count() > 0) spec.it_interval = to_timespec(period);
  ::timerfd_settime(fd, 0, &spec, nullptr);
}

void disarm(int fd) {
  itimerspec spec{};
  ::timerfd_settime(fd, 0, &spec, nullptr);
}

void drain(int fd) {
  std::uint64_t expirations = 0;
  [[maybe_unused]] ssize_t ignored = ::read(fd, &expirations, sizeof expirations);
}

}  // namespace

OneShotTimer::OneShotTimer(EventLoop& loop)
    : fd_(make_timerfd()), watch_(loop.watch(fd_.get(), EPOLLIN, [this](std::uint32_t) { on_readable(); })) {}

void OneShotTimer::arm(std::chrono::milliseconds delay, std::function<void()> on_expiry) {
  on_expiry_ = std::move(on_expiry);
  set_timer(fd_.get(), delay, std::chrono::milliseconds(0));
}

void OneShotTimer::cancel() {
  on_expiry_ = nullptr;
  disarm(fd_.get());
  drain(fd_.get());
}

void OneShotTimer::on_readable() {
  drain(fd_.get());
  // Move out first: the callback may re-arm this timer or destroy its owner.
  auto callback = std::exchange(on_expiry_, nullptr);
  if (callback) callback();
}

PeriodicTimer::PeriodicTimer(EventLoop& loop)
    : fd_(make_timerfd()), watch_(loop.watch(fd_.get(), EPOLLIN, [this](std::uint32_t) {
        drain(fd_.get());
        if (on_tick_) {
          auto tick = on_tick_;  // the tick may cancel (and clear) the stored callback
          tick();
        }
      })) {}

void PeriodicTimer::start(std::chrono::milliseconds period, std::function<void()> on_tick) {
  on_tick_ = std::move(on_tick);
  set_timer(fd_.get(), period, period);
}

void PeriodicTimer::cancel() {
  on_tick_ = nullptr;
  disarm(fd_.get());
  drain(fd_.get());
}

}  // namespace provium::agent
