#include "user_switch.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace provium::net {
namespace {

constexpr std::uint64_t kTimerKey = ~0ull;
constexpr std::uint64_t kWakeupKey = ~0ull - 1;
// A frame never exceeds this (jumbo frames included); larger datagrams are cut and dropped.
constexpr std::size_t kMaxFrameBytes = 65536;
// A bandwidth-limited link queues at most this much before it tail-drops, like tbf's limit.
constexpr std::uint64_t kMaxBacklogBytes = 256 * 1024;
// Socket buffers big enough that a burst from a fast guest is not dropped at the socket.
constexpr int kSocketBufferBytes = 1 << 20;
const std::pair<PortId, PortId> kWholeSwitchLink{0, 0};

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

OwnedFd checked(int fd, const std::string& what) {
  if (fd < 0) throw_errno(what);
  return OwnedFd(fd);
}

void watch(int epoll, int fd, std::uint64_t key) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = key;
  if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) throw_errno("user switch: epoll_ctl");
}

}  // namespace

UserSwitch::UserSwitch(std::string name, std::uint64_t seed)
    : name_(std::move(name)),
      epoll_(checked(::epoll_create1(EPOLL_CLOEXEC), "user switch: epoll_create1")),
      timer_(checked(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), "user switch: timerfd_create")),
      wakeup_(checked(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "user switch: eventfd")),
      random_(seed) {
  watch(epoll_.get(), timer_.get(), kTimerKey);
  watch(epoll_.get(), wakeup_.get(), kWakeupKey);
  thread_ = std::thread([this] { run(); });
}

UserSwitch::~UserSwitch() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake();
  thread_.join();
}

void UserSwitch::wake() {
  const std::uint64_t one = 1;
  (void)!::write(wakeup_.get(), &one, sizeof one);
}

NewPort UserSwitch::add_port() {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, ends) != 0) throw_errno("user switch " + name_ + ": socketpair");
  OwnedFd switch_end(ends[0]);
  OwnedFd guest_end(ends[1]);
  for (int fd : {ends[0], ends[1]}) {
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBufferBytes, sizeof kSocketBufferBytes);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kSocketBufferBytes, sizeof kSocketBufferBytes);
  }
  std::lock_guard lock(mutex_);
  const PortId id = next_port_++;
  watch(epoll_.get(), switch_end.get(), id);
  ports_.emplace(id, Port{.switch_end = std::move(switch_end)});
  return NewPort{.id = id, .guest_end = std::move(guest_end)};
}

PortId UserSwitch::adopt_port(OwnedFd switch_end) {
  std::uint8_t stale[2048];
  while (::recv(switch_end.get(), stale, sizeof stale, MSG_DONTWAIT) >= 0) {
  }
  std::lock_guard lock(mutex_);
  const PortId id = next_port_++;
  watch(epoll_.get(), switch_end.get(), id);
  ports_.emplace(id, Port{.switch_end = std::move(switch_end)});
  return id;
}

void UserSwitch::remove_port(PortId port) { release_port(port); }

OwnedFd UserSwitch::release_port(PortId port) {
  std::lock_guard lock(mutex_);
  const auto found = ports_.find(port);
  if (found == ports_.end()) return OwnedFd();
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, found->second.switch_end.get(), nullptr);
  OwnedFd switch_end = std::move(found->second.switch_end);
  ports_.erase(found);
  policy_.forget(port);
  std::erase_if(learned_, [port](const auto& entry) { return entry.second == port; });
  std::erase_if(link_free_at_, [port](const auto& entry) { return entry.first.first == port || entry.first.second == port; });
  std::erase_if(taps_, [port](const auto& entry) { return entry.second.port == port; });
  // Queued deliveries to it are skipped when they fall due.
  return switch_end;
}

void UserSwitch::set_link(PortId port, bool up) {
  std::lock_guard lock(mutex_);
  const auto found = ports_.find(port);
  if (found == ports_.end()) throw std::invalid_argument("user switch " + name_ + ": no port " + std::to_string(port));
  found->second.link_up = up;
}

PortCounters UserSwitch::counters(PortId port) const {
  std::lock_guard lock(mutex_);
  const auto found = ports_.find(port);
  if (found == ports_.end()) throw std::invalid_argument("user switch " + name_ + ": no port " + std::to_string(port));
  return found->second.counters;
}

PairVerdict UserSwitch::verdict(PortId from, PortId to) const {
  std::lock_guard lock(mutex_);
  return policy_.verdict(from, to);
}

std::uint64_t UserSwitch::add_tap(std::shared_ptr<FrameTap> tap, std::optional<PortId> port) {
  std::lock_guard lock(mutex_);
  const std::uint64_t id = next_tap_++;
  taps_.emplace(id, Tap{.tap = std::move(tap), .port = port});
  return id;
}

void UserSwitch::remove_tap(std::uint64_t tap_id) {
  std::lock_guard lock(mutex_);
  taps_.erase(tap_id);
}

std::size_t UserSwitch::frames_in_flight() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

void UserSwitch::run() {
  epoll_event events[32];
  for (;;) {
    const int count = ::epoll_wait(epoll_.get(), events, 32, -1);
    if (count < 0 && errno != EINTR) return;  // cannot happen with valid fds; nothing to report to
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    for (int i = 0; i < std::max(count, 0); ++i) {
      const std::uint64_t key = events[i].data.u64;
      if (key == kWakeupKey) {
        std::uint64_t drained = 0;
        (void)!::read(wakeup_.get(), &drained, sizeof drained);
      } else if (key == kTimerKey) {
        std::uint64_t expirations = 0;
        (void)!::read(timer_.get(), &expirations, sizeof expirations);
      } else {
        receive_from(static_cast<PortId>(key));
      }
    }
    deliver_due();
    arm_timer();
  }
}

void UserSwitch::receive_from(PortId from) {
  const auto found = ports_.find(from);
  if (found == ports_.end()) return;
  std::vector<std::uint8_t> buffer(kMaxFrameBytes);
  for (;;) {
    const ssize_t got = ::recv(found->second.switch_end.get(), buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_TRUNC);
    if (got < 0) return;  // EAGAIN: drained
    if (static_cast<std::size_t>(got) > buffer.size()) continue;  // truncated: not a frame we can forward
    Port& port = found->second;
    if (!port.link_up) continue;  // the cable is out: the frame goes nowhere
    port.counters.rx_frames++;
    port.counters.rx_bytes += static_cast<std::uint64_t>(got);
    switch_frame(from, std::vector<std::uint8_t>(buffer.begin(), buffer.begin() + got));
  }
}

void UserSwitch::switch_frame(PortId from, std::vector<std::uint8_t> frame) {
  const auto addresses = read_addresses(frame);
  if (!addresses) return;
  const auto now_wall = std::chrono::system_clock::now();
  for (const auto& [id, tap] : taps_) {
    if (!tap.port || *tap.port == from) tap.tap->on_frame(now_wall, frame);
  }
  if (!is_group_address(addresses->source)) learned_[addresses->source] = from;

  const Clock::time_point now = Clock::now();
  const auto known = is_group_address(addresses->destination) ? learned_.end() : learned_.find(addresses->destination);
  if (known != learned_.end()) {
    if (known->second != from) schedule(from, known->second, frame, now);
    return;
  }
  for (const auto& [to, port] : ports_) {  // flood: broadcast, multicast, or not learned yet
    if (to != from) schedule(from, to, frame, now);
  }
}

void UserSwitch::schedule(PortId from, PortId to, const std::vector<std::uint8_t>& frame, Clock::time_point now) {
  Port& target = ports_.at(to);
  const PairVerdict verdict = policy_.verdict(from, to);
  if (verdict.blocked || !target.link_up || (verdict.loss > 0 && random_.unit() < verdict.loss)) {
    target.counters.dropped++;
    return;
  }
  Clock::time_point sent = now;
  if (verdict.bandwidth_bps > 0) {
    Clock::time_point& free_at = link_free_at_[verdict.bandwidth_is_whole ? kWholeSwitchLink : std::make_pair(from, to)];
    const Clock::time_point start = std::max(now, free_at);
    const auto backlog_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(start - now).count();
    const auto backlog_bytes = static_cast<std::uint64_t>(static_cast<double>(backlog_ns) * 1e-9 *
                                                          static_cast<double>(verdict.bandwidth_bps) / 8);
    if (backlog_bytes > kMaxBacklogBytes) {
      target.counters.dropped++;
      return;
    }
    const auto transmit = std::chrono::nanoseconds(static_cast<std::int64_t>(
        static_cast<double>(frame.size()) * 8 * 1e9 / static_cast<double>(verdict.bandwidth_bps)));
    free_at = start + transmit;
    sent = free_at;
  }
  auto delay = std::chrono::duration_cast<Clock::duration>(verdict.latency);
  if (verdict.jitter.count() > 0) {
    const double spread = (2 * random_.unit() - 1) * static_cast<double>(verdict.jitter.count());
    delay += std::chrono::duration_cast<Clock::duration>(std::chrono::microseconds(static_cast<std::int64_t>(spread)));
    delay = std::max(delay, Clock::duration::zero());
  }
  const Clock::time_point due = sent + delay;
  if (due <= now && pending_.empty()) {
    deliver(Delivery{.due = due, .sequence = 0, .from = from, .to = to, .frame = frame});
    return;
  }
  pending_.push(Delivery{.due = due, .sequence = next_sequence_++, .from = from, .to = to, .frame = frame});
}

void UserSwitch::deliver(const Delivery& delivery) {
  const auto found = ports_.find(delivery.to);
  if (found == ports_.end()) return;  // the port left while the frame was queued
  Port& port = found->second;
  if (!port.link_up ||
      ::send(port.switch_end.get(), delivery.frame.data(), delivery.frame.size(), MSG_DONTWAIT) < 0) {
    port.counters.dropped++;  // a guest that does not read (or a full socket) loses frames, as a wire would
    return;
  }
  port.counters.tx_frames++;
  port.counters.tx_bytes += delivery.frame.size();
  const auto now_wall = std::chrono::system_clock::now();
  for (const auto& [id, tap] : taps_) {
    if (tap.port && *tap.port == delivery.to) tap.tap->on_frame(now_wall, delivery.frame);
  }
}

void UserSwitch::deliver_due() {
  const Clock::time_point now = Clock::now();
  while (!pending_.empty() && pending_.top().due <= now) {
    deliver(pending_.top());
    pending_.pop();
  }
}

void UserSwitch::arm_timer() {
  itimerspec spec{};
  if (!pending_.empty()) {
    const auto due = std::chrono::duration_cast<std::chrono::nanoseconds>(pending_.top().due.time_since_epoch());
    spec.it_value.tv_sec = static_cast<time_t>(due.count() / 1'000'000'000);
    spec.it_value.tv_nsec = static_cast<long>(due.count() % 1'000'000'000);
    if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;  // 0 would disarm
  }
  ::timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

}  // namespace provium::net
