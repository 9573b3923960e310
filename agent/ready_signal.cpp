#include "ready_signal.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace provium::agent {

ReadySignal::ReadySignal(EventLoop& loop, std::function<void()> on_ready)
    : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), on_ready_(std::move(on_ready)) {
  if (!fd_.valid()) throw std::system_error(errno, std::generic_category(), "eventfd");
  watch_ = loop.watch(fd_.get(), EPOLLIN, [this](std::uint32_t) { on_readable(); });
}

void ReadySignal::raise() {
  if (raised_) return;
  raised_ = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t ignored = ::write(fd_.get(), &one, sizeof one);
}

void ReadySignal::lower() {
  if (!raised_) return;
  raised_ = false;
  std::uint64_t count = 0;
  [[maybe_unused]] ssize_t ignored = ::read(fd_.get(), &count, sizeof count);
}

void ReadySignal::on_readable() {
  lower();
  // Copy: the callback may destroy this signal's owner.
  auto callback = on_ready_;
  callback();
}

}  // namespace provium::agent
