#include "inotify_hub.h"

#include <sys/epoll.h>
#include <sys/inotify.h>

#include <cerrno>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace provium::agent {
namespace {

// IN_MODIFY covers writes and truncation; IN_ATTRIB catches truncation done
// through some paths and a changed link count.
constexpr std::uint32_t kChangeEvents = IN_MODIFY | IN_ATTRIB;

}  // namespace

InotifyHub::InotifyHub(EventLoop& loop) : loop_(loop) {}

InotifyHub::Subscription InotifyHub::subscribe(int fd, std::function<void()> on_change) {
  if (!fd_.valid()) {
    UniqueFd instance(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!instance.valid()) throw std::system_error(errno, std::generic_category(), "following a file: inotify_init1");
    loop_watch_ = loop_.watch(instance.get(), EPOLLIN, [this](std::uint32_t) { on_readable(); });
    fd_ = std::move(instance);
  }
  // The descriptor's own inode, even if the path was renamed or unlinked since.
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  const int watch = ::inotify_add_watch(fd_.get(), path.c_str(), kChangeEvents);
  if (watch < 0) throw std::system_error(errno, std::generic_category(), "following a file: inotify_add_watch");
  const std::uint64_t token = next_token_++;
  subscribers_[watch][token] = std::move(on_change);
  return Subscription(this, watch, token);
}

void InotifyHub::unsubscribe(int watch, std::uint64_t token) {
  auto found = subscribers_.find(watch);
  if (found == subscribers_.end()) return;
  found->second.erase(token);
  if (found->second.empty()) {
    subscribers_.erase(found);
    ::inotify_rm_watch(fd_.get(), watch);
  }
}

void InotifyHub::on_readable() {
  std::set<int> changed;
  alignas(inotify_event) char buffer[16 * 1024];
  // A few reads per turn at most; level-triggered epoll brings us back.
  for (int round = 0; round < 8; ++round) {
    const ssize_t got = ::read(fd_.get(), buffer, sizeof buffer);
    if (got <= 0) break;  // EAGAIN: drained
    for (ssize_t at = 0; at < got;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      if (!(event->mask & IN_IGNORED)) changed.insert(event->wd);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
  // Collect first: a subscriber may unsubscribe itself or others.
  std::vector<std::pair<int, std::uint64_t>> to_call;
  for (int watch : changed) {
    auto found = subscribers_.find(watch);
    if (found == subscribers_.end()) continue;
    for (const auto& [token, callback] : found->second) to_call.emplace_back(watch, token);
  }
  for (const auto& [watch, token] : to_call) {
    auto found = subscribers_.find(watch);
    if (found == subscribers_.end()) continue;
    auto subscriber = found->second.find(token);
    if (subscriber == found->second.end()) continue;
    auto callback = subscriber->second;
    callback();
  }
}

InotifyHub::Subscription::Subscription(Subscription&& other) noexcept
    : hub_(std::exchange(other.hub_, nullptr)), watch_(other.watch_), token_(other.token_) {}

InotifyHub::Subscription& InotifyHub::Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    hub_ = std::exchange(other.hub_, nullptr);
    watch_ = other.watch_;
    token_ = other.token_;
  }
  return *this;
}

InotifyHub::Subscription::~Subscription() { reset(); }

void InotifyHub::Subscription::reset() {
  if (hub_ != nullptr) std::exchange(hub_, nullptr)->unsubscribe(watch_, token_);
}

}  // namespace provium::agent
