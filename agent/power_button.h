// The ACPI power button (QMP system_powerdown) as the guest's init handles
// it. The kernel's button driver reports a press as KEY_POWER on an input
// device and does nothing else; powering off is init's job. As the sole init,
// the agent watches every input device that can report KEY_POWER (the
// bundled guest loads `button` and `evdev` for this) and powers the guest off
// cleanly on a press: file systems synced, then RB_POWER_OFF.
#pragma once

#include "event_loop.h"
#include "unique_fd.h"

#include <functional>
#include <memory>
#include <vector>

namespace provium::agent {

class PowerButton {
 public:
  // Watches /dev/input/event*; no devices (a kernel without the modules) is
  // not an error: the button then does nothing, as on a guest without ACPI.
  PowerButton(EventLoop& loop, std::function<void()> pressed);
  std::size_t watched() const { return devices_.size(); }

 private:
  struct Device {
    UniqueFd fd;
    Watch watch;  // after the fd: destroyed first
  };
  void on_readable(int fd);

  std::function<void()> pressed_;
  std::vector<std::unique_ptr<Device>> devices_;
};

}  // namespace provium::agent
