#include "power_control.h"

#include "log.h"

#include <sys/reboot.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace provium::agent {
namespace {

[[noreturn]] void reboot_with(int command, const char* name) {
  ::sync();
  ::reboot(command);
  log_errno(std::string("reboot(") + name + ")", errno);
  ::_exit(1);
}

}  // namespace

void power_off_guest() { reboot_with(RB_POWER_OFF, "RB_POWER_OFF"); }

void reboot_guest() { reboot_with(RB_AUTOBOOT, "RB_AUTOBOOT"); }

}  // namespace provium::agent
