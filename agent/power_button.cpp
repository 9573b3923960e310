#include "power_button.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/input.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string>

namespace provium::agent {
namespace {

bool reports_power_key(int fd) {
  unsigned long keys[(KEY_MAX + 1 + sizeof(unsigned long) * CHAR_BIT - 1) / (sizeof(unsigned long) * CHAR_BIT)] = {};
  if (::ioctl(fd, EVIOCGBIT(EV_KEY, sizeof keys), keys) < 0) return false;
  constexpr std::size_t kBits = sizeof(unsigned long) * CHAR_BIT;
  return (keys[KEY_POWER / kBits] >> (KEY_POWER % kBits)) & 1UL;
}

}  // namespace

PowerButton::PowerButton(EventLoop& loop, std::function<void()> pressed) : pressed_(std::move(pressed)) {
  DIR* directory = ::opendir("/dev/input");
  if (directory == nullptr) return;
  while (const dirent* entry = ::readdir(directory)) {
    const std::string name = entry->d_name;
    if (name.rfind("event", 0) != 0) continue;
    UniqueFd fd(::open(("/dev/input/" + name).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid() || !reports_power_key(fd.get())) continue;
    auto device = std::make_unique<Device>();
    device->fd = std::move(fd);
    const int raw = device->fd.get();
    device->watch = loop.watch(raw, EPOLLIN, [this, raw](std::uint32_t) { on_readable(raw); });
    devices_.push_back(std::move(device));
  }
  ::closedir(directory);
}

void PowerButton::on_readable(int fd) {
  input_event events[16];
  const ssize_t got = ::read(fd, events, sizeof events);
  if (got <= 0) return;
  for (std::size_t i = 0; i < static_cast<std::size_t>(got) / sizeof(input_event); ++i) {
    if (events[i].type == EV_KEY && events[i].code == KEY_POWER && events[i].value == 1) {
      pressed_();
      return;
    }
  }
}

}  // namespace provium::agent
